// SPDX-License-Identifier: GPL-2.0
/*
 * Synchronous commands, and the admin commands bring-up needs.
 *
 * Every command - admin or I/O, from the kernel or from nvme-cli - travels
 * as a blk-mq request: the admin queue has its own request_queue
 * (dev->admin_q) whose queue_rq() writes into SQ 0.  That way there is one
 * submission path (tnvme_queue_rq()), one completion path (tnvme_reap_cq()
 * and tnvme_complete_rq()) and one timeout handler (tnvme_timeout()) for
 * everything, as in the stock driver.  A "synchronous" command is a
 * request we allocate, execute and wait for here.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uuid.h>

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
	tnvme_copy_id_string(dev->firmware_rev, id->fr, sizeof(id->fr));
	tnvme_copy_id_string(dev->subsysnqn, id->subnqn, sizeof(id->subnqn));
	/* As reported, padded: sysfs shows them so, the wwid uses them. */
	memcpy(dev->raw_serial, id->sn, sizeof(id->sn));
	memcpy(dev->raw_model, id->mn, sizeof(id->mn));
	memcpy(dev->raw_firmware_rev, id->fr, sizeof(id->fr));
	dev->vid = le16_to_cpu(id->vid);
	dev->cntlid = le16_to_cpu(id->cntlid);
	dev->awupf = le16_to_cpu(id->awupf);
	dev->oaes = le32_to_cpu(id->oaes);
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
 * Identify Controller, I/O Command Set specific, for the NVM command set
 * (CNS 06h, CSI 00h; NVM Command Set Specification 1.0, 4.1.5.1): the
 * Dataset Management and Write Zeroes limits.  Optional before NVMe 1.4,
 * and a controller that does not know CNS 06h fails it: then there are
 * no limits beyond the command formats', which is what zeroes mean here.
 */
int tnvme_identify_ctrl_nvm(struct tnvme_dev *dev)
{
	struct nvme_id_ctrl_nvm *id;
	struct nvme_command c = { };
	int ret;

	dev->dmrl = 0;
	dev->dmrsl = 0;
	dev->dmsl = 0;
	dev->wzsl = 0;
	if (dev->vs < NVME_VS(1, 4, 0))
		return 0;
	id = kzalloc(sizeof(*id), GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	c.identify.opcode = nvme_admin_identify;
	c.identify.cns = NVME_ID_CNS_CS_CTRL;
	c.identify.csi = NVME_CSI_NVM;
	ret = tnvme_execute_cmd(dev->admin_q, &c, id, NULL, sizeof(*id), 0,
				NULL);
	if (!ret) {
		dev->dmrl = id->dmrl;
		dev->dmrsl = le32_to_cpu(id->dmrsl);
		dev->dmsl = le64_to_cpu(id->dmsl);
		dev->wzsl = id->wzsl;
	}
	kfree(id);
	return ret < 0 ? ret : 0;
}

/*
 * Set Features, Number of Queues (Feature Identifier 07h, NVMe 2.0
 * section 5.27.1.5): send @dword11 as the caller built it (NCQR in bits
 * 31:16, NSQR in bits 15:0) and return the completion's dword 0 in
 * @dword0 (NCQA and NSQA, the same layout).  What to ask for and what to
 * make of the answer is tnvme_pick_queue_count()'s business.
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

/*
 * Identify Namespace (CNS 00h): for the NVM command set its data structure
 * is in the NVM Command Set specification (Identify Namespace data
 * structure), not in the base specification.
 */
int tnvme_identify_ns(struct tnvme_dev *dev, u32 nsid, struct nvme_id_ns *id)
{
	return tnvme_identify(dev, NVME_ID_CNS_NS, nsid, id);
}

/*
 * Namespace Identification Descriptor list (CNS 03h, 5.17.2.3): the
 * namespace's EUI-64, NGUID and UUID, the globally unique names a udev
 * rule or a multipath tool uses.  Identify Namespace has room for the
 * first two only; the list is where a UUID can be.  Each descriptor is
 * a 4-byte header (type NIDT, length NIDL) followed by NIDL bytes; a
 * zero length ends the list.
 */
int tnvme_identify_ns_descs(struct tnvme_dev *dev, u32 nsid,
			    struct tnvme_ns_ids *ids)
{
	struct nvme_command c = { };
	struct nvme_ns_id_desc *cur;
	void *data;
	int pos, len, ret;

	if (dev->vs < NVME_VS(1, 3, 0))
		return 0;
	data = kzalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	c.identify.opcode = nvme_admin_identify;
	c.identify.nsid = cpu_to_le32(nsid);
	c.identify.cns = NVME_ID_CNS_NS_DESC_LIST;
	ret = tnvme_execute_cmd(dev->admin_q, &c, data, NULL,
				NVME_IDENTIFY_DATA_SIZE, 0, NULL);
	if (ret) {
		/* Optional before 1.3 and often broken: not fatal. */
		ret = ret < 0 ? ret : 0;
		goto out;
	}
	for (pos = 0; pos + sizeof(*cur) <= NVME_IDENTIFY_DATA_SIZE;
	     pos += sizeof(*cur) + len) {
		cur = data + pos;
		len = cur->nidl;
		if (!len || pos + sizeof(*cur) + len > NVME_IDENTIFY_DATA_SIZE)
			break;
		switch (cur->nidt) {
		case NVME_NIDT_EUI64:
			if (len == NVME_NIDT_EUI64_LEN)
				memcpy(ids->eui64, cur + 1, len);
			break;
		case NVME_NIDT_NGUID:
			if (len == NVME_NIDT_NGUID_LEN)
				memcpy(ids->nguid, cur + 1, len);
			break;
		case NVME_NIDT_UUID:
			if (len == NVME_NIDT_UUID_LEN)
				memcpy(&ids->uuid, cur + 1, len);
			break;
		default:
			break;	/* CSI and what a later spec adds */
		}
	}
out:
	kfree(data);
	return ret;
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

/* ---------------------------------------------------------------------
 * Asynchronous events (5.2).  The host leaves an Asynchronous Event
 * Request outstanding on the admin queue; the controller completes it
 * only when it has something to tell: here, that the set of namespaces
 * changed (a namespace attached, detached, resized or reformatted).  The
 * command has no timeout in the usual sense (tnvme_timeout() keeps
 * re-arming its timer), and it uses the admin tag set's one reserved tag,
 * so it never keeps a real admin command waiting for a tag.
 */

/*
 * Get Log Page, Changed Namespace List (5.16.1.5).  Reading it is what
 * tells the controller that we saw the event: until then it does not
 * report another event of the same type (5.2).  We rescan every
 * namespace anyway, so the list itself is not looked at.
 */
static int tnvme_read_changed_ns_log(struct tnvme_dev *dev)
{
	struct nvme_command c = { };
	void *log;
	int ret;

	log = kzalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	if (!log)
		return -ENOMEM;
	c.get_log_page.opcode = nvme_admin_get_log_page;
	c.get_log_page.nsid = cpu_to_le32(NVME_NSID_ALL);
	c.get_log_page.lid = NVME_LOG_CHANGED_NS;
	/* Number of dwords, 0-based: the whole 4 KiB list. */
	c.get_log_page.numdl = cpu_to_le16(NVME_IDENTIFY_DATA_SIZE / 4 - 1);
	ret = tnvme_submit_sync(dev, &c, log, NVME_IDENTIFY_DATA_SIZE, NULL);
	kfree(log);
	return ret;
}

/*
 * The event's CQE dword 0 (Figure 146): type in bits 2:0, information in
 * 15:8, the log page to read in 23:16.
 */
static void tnvme_async_event_work(struct work_struct *work)
{
	struct tnvme_dev *dev = container_of(work, struct tnvme_dev,
					     async_event_work);
	u32 result = READ_ONCE(dev->async_event);
	u8 type = result & 0x7;
	u8 info = (result >> 8) & 0xff;

	if (tnvme_state(dev) != TNVME_CTRL_LIVE)
		return;
	if (type == NVME_AER_TYPE_NOTICE && info == NVME_AER_NOTICE_NS_CHANGED) {
		dev_info(&dev->pdev->dev, "tnvme%d: namespaces changed, rescanning\n",
			 dev->instance);
		tnvme_read_changed_ns_log(dev);
		tnvme_scan_namespaces(dev);
	} else {
		dev_info(&dev->pdev->dev,
			 "tnvme%d: asynchronous event type %u info 0x%02x log page 0x%02x (not handled)\n",
			 dev->instance, type, info, (result >> 16) & 0xff);
	}
	tnvme_submit_async_event(dev);
}

static enum rq_end_io_ret tnvme_async_event_endio(struct request *req,
						  blk_status_t sts)
{
	struct tnvme_dev *dev = req->end_io_data;
	struct tnvme_iod *iod = tnvme_iod(req);

	/*
	 * An error is a cancelled request (reset, remove: reset_work sends a
	 * new one) or a controller that refuses more events; either way we
	 * do not ask again from here.
	 */
	if (!sts && !iod->status) {
		WRITE_ONCE(dev->async_event, lower_32_bits(iod->result));
		queue_work(tnvme_wq, &dev->async_event_work);
	}
	return RQ_END_IO_FREE;
}

/* Leave one Asynchronous Event Request with the controller. */
void tnvme_submit_async_event(struct tnvme_dev *dev)
{
	struct request *req;
	struct tnvme_iod *iod;

	if (tnvme_state(dev) != TNVME_CTRL_LIVE)
		return;
	req = blk_mq_alloc_request(dev->admin_q, REQ_OP_DRV_IN,
				   BLK_MQ_REQ_NOWAIT | BLK_MQ_REQ_RESERVED);
	if (IS_ERR(req))
		return;	/* one is still outstanding */
	iod = tnvme_iod(req);
	memset(&iod->cmd, 0, sizeof(iod->cmd));
	iod->cmd.common.opcode = nvme_admin_async_event;
	req->end_io = tnvme_async_event_endio;
	req->end_io_data = dev;
	blk_execute_rq_nowait(req, false);
}

/*
 * After every enable (the setting does not survive a reset): ask for the
 * notices we handle, if the controller can send them (OAES, 5.17.2.1),
 * with Set Features, Asynchronous Event Configuration (5.27.1.9), and
 * leave the request with the controller.
 */
void tnvme_start_async_events(struct tnvme_dev *dev)
{
	struct nvme_command c = { };

	if (!(dev->oaes & NVME_AEN_CFG_NS_ATTR))
		return;
	c.features.opcode = nvme_admin_set_features;
	c.features.fid = cpu_to_le32(NVME_FEAT_ASYNC_EVENT);
	c.features.dword11 = cpu_to_le32(NVME_AEN_CFG_NS_ATTR);
	if (tnvme_submit_sync(dev, &c, NULL, 0, NULL))
		return;
	tnvme_submit_async_event(dev);
}

void tnvme_init_async_events(struct tnvme_dev *dev)
{
	INIT_WORK(&dev->async_event_work, tnvme_async_event_work);
}
