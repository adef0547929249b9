// SPDX-License-Identifier: GPL-2.0
/*
 * Synchronous commands, and the admin commands bring-up needs.
 *
 * Every command - admin or I/O, from the kernel or from nvme-cli - travels
 * as a blk-mq request: the admin queue has its own request_queue
 * (dev->admin_q) whose queue_rq() writes into SQ 0.  That way there is one
 * submission path (io.c), one completion path (irq.c) and one timeout
 * handler for everything, as in the stock driver.  A "synchronous" command
 * is a request we allocate, execute and wait for here.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "tnvme.h"

/*
 * tnvme_execute_cmd - run one command and wait for its completion.
 * @q:          the request queue to send it on (admin_q or a namespace's)
 * @cmd:        the command; the driver fills in command_id and the data
 *              pointer
 * @kbuf:       kernel data buffer, or NULL
 * @ubuf:       user data buffer (passthrough ioctls), or NULL
 * @len:        data length in bytes
 * @timeout_ms: 0 for the queue's default
 * @result:     if not NULL, receives CQE dwords 0 and 1
 *
 * The direction of the data comes from the opcode (bit 0 set: host to
 * controller, see nvme_is_write()).
 *
 * Return: 0 on success, a positive NVMe status (SCT/SC, 3.3.3.2) if the
 * controller failed the command, or a negative errno if the command could
 * not be executed at all.
 */
int tnvme_execute_cmd(struct request_queue *q, struct nvme_command *cmd,
		      void *kbuf, void __user *ubuf, unsigned int len,
		      unsigned int timeout_ms, u64 *result)
{
	blk_opf_t op = nvme_is_write(cmd) ? REQ_OP_DRV_OUT : REQ_OP_DRV_IN;
	struct tnvme_iod *iod;
	struct request *req;
	struct bio *bio = NULL;
	blk_status_t sts;
	int ret;

	req = blk_mq_alloc_request(q, op, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	iod = tnvme_iod(req);
	iod->cmd = *cmd;
	if (timeout_ms)
		req->timeout = msecs_to_jiffies(timeout_ms);

	/*
	 * Attach the buffer as a bio.  The block layer checks it against the
	 * queue limits (size, segments, alignment) and, for a user buffer
	 * it cannot use directly, copies through a bounce buffer.
	 */
	if (len && kbuf)
		ret = blk_rq_map_kern(q, req, kbuf, len, GFP_KERNEL);
	else if (len && ubuf)
		ret = blk_rq_map_user(q, req, NULL, ubuf, len, GFP_KERNEL);
	else
		ret = 0;
	if (ret)
		goto out;
	bio = req->bio;

	sts = blk_execute_rq(req, false);
	if (iod->status)
		ret = iod->status;		/* the controller said no */
	else if (sts)
		ret = blk_status_to_errno(sts);	/* never reached the device */
	if (result)
		*result = iod->result;

	if (ubuf && bio)
		blk_rq_unmap_user(bio);
out:
	blk_mq_free_request(req);
	return ret;
}

/*
 * Admin command from inside the driver.  Positive NVMe statuses become
 * -EIO after logging them, so callers only see errno values.
 */
int tnvme_submit_sync(struct tnvme_dev *dev, struct nvme_command *cmd,
		      void *buf, unsigned int len, u64 *result)
{
	int ret;

	ret = tnvme_execute_cmd(dev->admin_q, cmd, buf, NULL, len, 0, result);
	if (ret > 0) {
		dev_err(&dev->pdev->dev,
			"admin opcode 0x%02x failed: status 0x%x\n",
			cmd->common.opcode, ret);
		ret = -EIO;
	}
	return ret;
}

/* Identify (5.17) with one CNS value, into a 4 KiB buffer. */
static int tnvme_identify(struct tnvme_dev *dev, u8 cns, u32 nsid, void *buf)
{
	struct nvme_command c = { };

	c.identify.opcode = nvme_admin_identify;
	c.identify.nsid = cpu_to_le32(nsid);
	c.identify.cns = cns;
	return tnvme_submit_sync(dev, &c, buf, NVME_IDENTIFY_DATA_SIZE, NULL);
}

/* Copy a space-padded, unterminated Identify string. */
static void tnvme_copy_id_string(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	strim(dst);
}

/*
 * Identify Controller (CNS 01h, 5.17.2.1): serial, model, and the limits
 * and features the I/O path needs.
 */
int tnvme_identify_ctrl(struct tnvme_dev *dev)
{
	struct nvme_id_ctrl *id;
	u32 page = 1U << (12 + NVME_CAP_MPSMIN(dev->cap));
	int ret;

	id = kzalloc(sizeof(*id), GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	ret = tnvme_identify(dev, NVME_ID_CNS_CTRL, 0, id);
	if (ret)
		goto out;

	tnvme_copy_id_string(dev->serial, id->sn, sizeof(id->sn));
	tnvme_copy_id_string(dev->model, id->mn, sizeof(id->mn));
	dev->oacs = le16_to_cpu(id->oacs);
	dev->oncs = le16_to_cpu(id->oncs);
	dev->vwc = id->vwc;
	dev->nn = le32_to_cpu(id->nn);
	dev->acl = id->acl;

	/*
	 * MDTS: maximum data transfer size as a power of two in units of
	 * the minimum memory page size (CAP.MPSMIN); 0 means no limit.  We
	 * also apply our own cap, which bounds the PRP list memory.
	 */
	dev->max_xfer = TNVME_MAX_XFER;
	if (id->mdts && id->mdts < 32 &&
	    (u64)page << id->mdts < TNVME_MAX_XFER)
		dev->max_xfer = page << id->mdts;

	dev_info(&dev->pdev->dev,
		 "Identify: model '%s' serial '%s' MDTS %u (max transfer %u KiB) ONCS 0x%x VWC %u NN %u\n",
		 dev->model, dev->serial, id->mdts, dev->max_xfer / 1024,
		 dev->oncs, dev->vwc, dev->nn);
out:
	kfree(id);
	return ret;
}

/*
 * Set Features, Number of Queues (Feature Identifier 07h, NVMe 2.0
 * section 5.27.1.5): send @dword11 as the caller built it (NCQR in bits
 * 31:16, NSQR in bits 15:0) and return the completion's dword 0 in
 * @dword0 (NCQA and NSQA, the same layout).  What to ask for and what to
 * make of the answer is tnvme_pick_queue_count()'s business (probe.c).
 */
int tnvme_set_queue_count(struct tnvme_dev *dev, u32 dword11, u32 *dword0)
{
	struct nvme_command c = { };
	u64 result;
	int ret;

	c.features.opcode = nvme_admin_set_features;
	c.features.fid = cpu_to_le32(NVME_FEAT_NUM_QUEUES);
	c.features.dword11 = cpu_to_le32(dword11);
	ret = tnvme_submit_sync(dev, &c, NULL, 0, &result);
	if (!ret)
		*dword0 = lower_32_bits(result);
	return ret;
}

/* Identify Namespace (CNS 00h, 5.17.2.1). */
int tnvme_identify_ns(struct tnvme_dev *dev, u32 nsid, struct nvme_id_ns *id)
{
	return tnvme_identify(dev, NVME_ID_CNS_NS, nsid, id);
}

/*
 * Active Namespace ID list (CNS 02h): up to 1024 namespace ids, in
 * increasing order, terminated by a zero entry.
 */
int tnvme_active_ns_list(struct tnvme_dev *dev, __le32 *list)
{
	return tnvme_identify(dev, NVME_ID_CNS_NS_ACTIVE_LIST, 0, list);
}

/*
 * Abort (5.1): ask the controller to abort command @req of its queue.
 * Sent by the timeout handler, which must not sleep waiting for it, so
 * the request is allocated without waiting and completes in
 * tnvme_abort_endio().  CDW10 holds the SQ id (bits 15:0) and the command
 * id (bits 31:16).  The spec lets a controller refuse (bit 0 of
 * completion dword 0 set: "not aborted", which QEMU always answers);
 * either way the timeout handler looks at the request again when its
 * timer expires once more, and resets the controller if it is still
 * outstanding.
 */
static enum rq_end_io_ret tnvme_abort_endio(struct request *abort_req,
					    blk_status_t error)
{
	struct tnvme_queue *aq = abort_req->mq_hctx->driver_data;
	struct tnvme_dev *dev = aq->dev;
	struct tnvme_iod *iod = tnvme_iod(abort_req);

	dev_warn(&dev->pdev->dev,
		 "Abort of queue %u cid %u: status 0x%x, %s\n",
		 le16_to_cpu(iod->cmd.abort.sqid), iod->cmd.abort.cid,
		 iod->status, error ? "not sent" :
		 (iod->result & 1) ? "command not aborted" : "command aborted");
	atomic_inc(&dev->abort_limit);
	blk_mq_free_request(abort_req);
	return RQ_END_IO_NONE;
}

int tnvme_send_abort(struct request *req)
{
	struct tnvme_queue *q = req->mq_hctx->driver_data;
	struct tnvme_dev *dev = q->dev;
	struct request *abort_req;
	struct tnvme_iod *iod;

	abort_req = blk_mq_alloc_request(dev->admin_q, REQ_OP_DRV_OUT,
					 BLK_MQ_REQ_NOWAIT);
	if (IS_ERR(abort_req))
		return PTR_ERR(abort_req);
	iod = tnvme_iod(abort_req);
	memset(&iod->cmd, 0, sizeof(iod->cmd));
	iod->cmd.abort.opcode = nvme_admin_abort_cmd;
	iod->cmd.abort.cid = req->tag;
	iod->cmd.abort.sqid = cpu_to_le16(q->qid);
	abort_req->end_io = tnvme_abort_endio;
	blk_execute_rq_nowait(abort_req, false);
	return 0;
}
