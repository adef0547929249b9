// SPDX-License-Identifier: GPL-2.0
/*
 * The submission path: from a struct request to a command in the SQ.
 *
 * blk-mq calls tnvme_queue_rq() for every request, on the hardware queue
 * (= our I/O queue) mapped to the submitting CPU.  For each request we
 *
 *   - build the NVMe command (read, write, flush, discard, write zeroes,
 *     or a ready-made passthrough command),
 *   - DMA-map its data and describe the pages with PRPs (4.1); this only
 *     prepares the controller's dma step, which comes after its fetch,
 *   - copy the command into the SQ slot at sq_tail: the sq_write step,
 *   - ring the SQ tail doorbell, now or once the batch is complete: the
 *     sq_doorbell step.
 *
 * The completion side starts in tnvme_irq() (or tnvme_poll()).
 */
#include <linux/blk-mq-pci.h>
#include <linux/dmapool.h>

#include "tnvme.h"
#include "trace.h"

/* ---------------------------------------------------------------------
 * Building the command.
 */

/*
 * Read and Write (NVM Command Set specification).  NLB is 0-based: 0 means
 * one block.  FUA asks the controller to put the data on media before
 * completing, which is how the block layer does REQ_FUA.
 */
static void tnvme_setup_rw(struct tnvme_ns *ns, struct request *req,
			   struct nvme_command *c)
{
	u16 control = 0;

	if (req->cmd_flags & REQ_FUA)
		control |= NVME_RW_FUA;
	c->rw.opcode = rq_data_dir(req) ? nvme_cmd_write : nvme_cmd_read;
	c->rw.nsid = cpu_to_le32(ns->nsid);
	c->rw.slba = cpu_to_le64(tnvme_sect_to_lba(ns, blk_rq_pos(req)));
	c->rw.length = cpu_to_le16((blk_rq_bytes(req) >> ns->lba_shift) - 1);
	c->rw.control = cpu_to_le16(control);
}

/*
 * Discard becomes Dataset Management with the Deallocate attribute.  Its
 * data is a list of 16-byte ranges in host memory, one per bio the block
 * layer merged into this request (at most max_discard_segments, each at
 * most max_discard_sectors: tnvme_set_ns_limits() set both from the
 * controller's limits).  The list comes from the small pool when it
 * fits, else from the page pool; either block lies within one page, so
 * PRP1 alone describes it.
 */
static blk_status_t tnvme_setup_discard(struct tnvme_ns *ns,
					struct request *req,
					struct nvme_command *c)
{
	struct tnvme_iod *iod = tnvme_iod(req);
	struct tnvme_dev *dev = ns->dev;
	unsigned short segments = blk_rq_nr_discard_segments(req);
	unsigned short n = 0;
	struct bio *bio;

	if (WARN_ON_ONCE(segments > TNVME_DSM_MAX_RANGES))
		return BLK_STS_IOERR;
	iod->dsm_small = segments <= TNVME_DSM_SMALL_RANGES;
	iod->dsm = dma_pool_alloc(iod->dsm_small ? dev->prp_small_pool :
				  dev->prp_page_pool, GFP_ATOMIC, &iod->dsm_dma);
	if (!iod->dsm)
		return BLK_STS_RESOURCE;
	__rq_for_each_bio(bio, req) {
		u64 slba = tnvme_sect_to_lba(ns, bio->bi_iter.bi_sector);
		u32 nlb = bio->bi_iter.bi_size >> ns->lba_shift;

		if (n == segments)
			break;
		iod->dsm[n].cattr = 0;
		iod->dsm[n].nlb = cpu_to_le32(nlb);
		iod->dsm[n].slba = cpu_to_le64(slba);
		n++;
	}
	/* The block layer's count and its bios disagree: send nothing. */
	if (WARN_ON_ONCE(n != segments || bio)) {
		tnvme_unmap_data(dev, req);
		return BLK_STS_IOERR;
	}

	c->dsm.opcode = nvme_cmd_dsm;
	c->dsm.nsid = cpu_to_le32(ns->nsid);
	c->dsm.nr = cpu_to_le32(segments - 1);	/* 0-based */
	c->dsm.attributes = cpu_to_le32(NVME_DSMGMT_AD);
	c->dsm.dptr.prp1 = cpu_to_le64(iod->dsm_dma);
	iod->prp_entries = 1;
	return BLK_STS_OK;
}

static void tnvme_setup_write_zeroes(struct tnvme_ns *ns, struct request *req,
				     struct nvme_command *c)
{
	c->write_zeroes.opcode = nvme_cmd_write_zeroes;
	c->write_zeroes.nsid = cpu_to_le32(ns->nsid);
	c->write_zeroes.slba =
		cpu_to_le64(tnvme_sect_to_lba(ns, blk_rq_pos(req)));
	c->write_zeroes.length =
		cpu_to_le16((blk_rq_bytes(req) >> ns->lba_shift) - 1);
}

static blk_status_t tnvme_setup_cmd(struct request *req)
{
	struct tnvme_iod *iod = tnvme_iod(req);
	struct nvme_command *c = &iod->cmd;
	struct tnvme_ns *ns = tnvme_req_ns(req);

	switch (req_op(req)) {
	case REQ_OP_DRV_IN:
	case REQ_OP_DRV_OUT:
		/* Passthrough: the caller already built iod->cmd. */
		return BLK_STS_OK;
	default:
		break;
	}

	memset(c, 0, sizeof(*c));
	switch (req_op(req)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		tnvme_setup_rw(ns, req, c);
		return BLK_STS_OK;
	case REQ_OP_FLUSH:
		c->common.opcode = nvme_cmd_flush;
		c->common.nsid = cpu_to_le32(ns->nsid);
		return BLK_STS_OK;
	case REQ_OP_DISCARD:
		return tnvme_setup_discard(ns, req, c);
	case REQ_OP_WRITE_ZEROES:
		tnvme_setup_write_zeroes(ns, req, c);
		return BLK_STS_OK;
	default:
		return BLK_STS_NOTSUPP;
	}
}

/* ---------------------------------------------------------------------
 * Data mapping with PRPs (4.1).  Not the dma step: the host only makes
 * the pages reachable and lists them; the controller moves the data later.
 *
 * A PRP entry is the bus address of (part of) one controller memory page.
 * The rules the controller relies on:
 *   - PRP1 may start anywhere in a page (dword aligned); every later entry
 *     must point at the start of a page.
 *   - If the data ends within PRP1's page, PRP2 is unused.
 *   - If it ends in the next page, PRP2 is the address of that page.
 *   - Otherwise PRP2 points to a PRP list: a page of entries, one per
 *     remaining data page.  If the data needs more entries than a list
 *     page holds, the last entry of the page points to the next list page.
 * So the data must be contiguous in whole controller pages: every
 * segment but the first starts on a page boundary and every segment but
 * the last ends on one.  The block layer guarantees this because we set
 * a virtual boundary of 4 KiB on our queues (tnvme_set_queue_limits()).
 */

int tnvme_create_pools(struct tnvme_dev *dev)
{
	struct device *dmadev = &dev->pdev->dev;

	/* List pages must be page aligned: align = size = 4 KiB. */
	dev->prp_page_pool = dma_pool_create("tnvme prp page", dmadev,
					     TNVME_CTRL_PAGE_SIZE,
					     TNVME_CTRL_PAGE_SIZE, 0);
	if (!dev->prp_page_pool)
		return -ENOMEM;
	dev->prp_small_pool = dma_pool_create("tnvme prp small", dmadev,
					      TNVME_SMALL_POOL_SIZE,
					      TNVME_SMALL_POOL_SIZE, 0);
	if (!dev->prp_small_pool) {
		dma_pool_destroy(dev->prp_page_pool);
		dev->prp_page_pool = NULL;
		return -ENOMEM;
	}
	return 0;
}

void tnvme_destroy_pools(struct tnvme_dev *dev)
{
	dma_pool_destroy(dev->prp_small_pool);
	dma_pool_destroy(dev->prp_page_pool);
	dev->prp_small_pool = NULL;
	dev->prp_page_pool = NULL;
}

/* Get one more PRP list page for @iod; the first may be a small one. */
static __le64 *tnvme_alloc_list_page(struct tnvme_dev *dev,
				     struct tnvme_iod *iod, bool small)
{
	struct dma_pool *pool = small ? dev->prp_small_pool :
					dev->prp_page_pool;
	int i = iod->nr_list_pages;
	__le64 *list;

	if (WARN_ON_ONCE(i >= TNVME_MAX_LIST_PAGES))
		return NULL;
	list = dma_pool_alloc(pool, GFP_ATOMIC, &iod->list_dma[i]);
	if (!list)
		return NULL;
	iod->list[i] = list;
	iod->small_list = small;
	iod->nr_list_pages++;
	return list;
}

/*
 * Fill PRP1/PRP2 (and the PRP list, if needed) for @len bytes described by
 * the @count DMA-mapped entries of iod->sg.
 */
static blk_status_t tnvme_setup_prps(struct tnvme_dev *dev,
				     struct tnvme_iod *iod, u32 len, int count)
{
	const u32 page = TNVME_CTRL_PAGE_SIZE;
	struct scatterlist *sg = iod->sg;
	dma_addr_t addr = sg_dma_address(sg);
	u32 seg_len = sg_dma_len(sg);
	u32 first = page - (addr & (page - 1));	/* bytes in PRP1's page */
	u32 nprps, slots, i;
	__le64 *list;

	iod->cmd.common.dptr.prp1 = cpu_to_le64(addr);
	iod->prp_entries = 1;
	if (len <= first)
		return BLK_STS_OK;		/* fits in PRP1's page */

	/* Move on to the start of the second page. */
	len -= first;
	seg_len -= min(seg_len, first);
	addr += first;
	if (!seg_len) {
		sg = sg_next(sg);
		addr = sg_dma_address(sg);
		seg_len = sg_dma_len(sg);
	}

	if (len <= page) {
		/* Exactly two pages: PRP2 is the second page itself. */
		iod->cmd.common.dptr.prp2 = cpu_to_le64(addr);
		iod->prp_entries = 2;
		return BLK_STS_OK;
	}

	/* LAB-TODO(08) begin: build the PRP list, chaining list pages */
	nprps = DIV_ROUND_UP(len, page);
	slots = TNVME_SMALL_POOL_SIZE / sizeof(__le64);
	list = tnvme_alloc_list_page(dev, iod, nprps <= slots);
	if (!list)
		return BLK_STS_RESOURCE;
	if (nprps > slots)
		slots = TNVME_PRPS_PER_PAGE;
	iod->cmd.common.dptr.prp2 = cpu_to_le64(iod->list_dma[0]);

	i = 0;
	for (;;) {
		if (i == slots) {
			/*
			 * This list page is full but data remains: move its
			 * last entry to the start of a new page and put the
			 * new page's address in the freed slot (4.1: the last
			 * entry of a list page chains to the next list).
			 */
			__le64 *next = tnvme_alloc_list_page(dev, iod, false);

			if (!next)
				return BLK_STS_RESOURCE;
			next[0] = list[i - 1];
			list[i - 1] = cpu_to_le64(iod->list_dma[iod->nr_list_pages - 1]);
			list = next;
			i = 1;
		}
		list[i++] = cpu_to_le64(addr);
		iod->prp_entries++;
		if (len <= page)
			break;
		len -= page;
		addr += page;
		/* A middle segment that is not whole pages breaks the rules. */
		if (WARN_ON_ONCE(seg_len < page))
			return BLK_STS_IOERR;
		seg_len -= page;
		if (!seg_len) {
			sg = sg_next(sg);
			if (WARN_ON_ONCE(!sg))
				return BLK_STS_IOERR;
			addr = sg_dma_address(sg);
			seg_len = sg_dma_len(sg);
		}
	}
	/* LAB-TODO(08) end */
	return BLK_STS_OK;
}

/*
 * The common case, a 4 KiB or 8 KiB request in one piece of memory: at
 * most two controller pages, so PRP1 and PRP2 describe it without a list.
 * Map that one bio_vec directly and skip the scatterlist: less work per
 * command, as the kernel's nvme_setup_prp_simple() does.  (One physical
 * segment may still consist of several bio_vecs; then the first bio_vec
 * is not the whole request and the general path below is taken.)
 */
static bool tnvme_map_one_segment(struct tnvme_dev *dev, struct request *req)
{
	struct tnvme_iod *iod = tnvme_iod(req);
	struct bio_vec bv;
	u32 first;

	if (blk_rq_nr_phys_segments(req) != 1)
		return false;
	bv = req_bvec(req);
	if (bv.bv_len != blk_rq_payload_bytes(req) ||
	    bv.bv_offset + bv.bv_len > 2 * TNVME_CTRL_PAGE_SIZE)
		return false;
	iod->page_dma = dma_map_bvec(&dev->pdev->dev, &bv, rq_dma_dir(req), 0);
	if (dma_mapping_error(&dev->pdev->dev, iod->page_dma))
		return false;
	iod->mapped_page = true;

	/* bytes from the start to the end of PRP1's controller page */
	first = TNVME_CTRL_PAGE_SIZE -
		(iod->page_dma & (TNVME_CTRL_PAGE_SIZE - 1));
	iod->cmd.common.dptr.prp1 = cpu_to_le64(iod->page_dma);
	iod->prp_entries = 1;
	if (bv.bv_len > first) {
		iod->cmd.common.dptr.prp2 = cpu_to_le64(iod->page_dma + first);
		iod->prp_entries = 2;
	}
	return true;
}

/*
 * Map the request's pages for DMA and describe them with PRPs.
 * blk_rq_map_sg() merges physically adjacent pages into segments;
 * dma_map_sg() turns them into bus addresses (and may merge further when
 * an IOMMU is present, hence the separate "count").
 */
static blk_status_t tnvme_map_data(struct tnvme_dev *dev, struct request *req)
{
	struct tnvme_iod *iod = tnvme_iod(req);
	enum dma_data_direction dir = rq_dma_dir(req);
	blk_status_t ret;
	int count;

	if (tnvme_map_one_segment(dev, req))
		return BLK_STS_OK;

	sg_init_table(iod->sg, blk_rq_nr_phys_segments(req));
	iod->nents = blk_rq_map_sg(req->q, req, iod->sg);
	if (!iod->nents)
		return BLK_STS_IOERR;

	count = dma_map_sg_attrs(&dev->pdev->dev, iod->sg, iod->nents, dir,
				 DMA_ATTR_NO_WARN);
	if (!count)
		return BLK_STS_RESOURCE;
	iod->mapped = true;

	ret = tnvme_setup_prps(dev, iod, blk_rq_payload_bytes(req), count);
	if (ret)
		tnvme_unmap_data(dev, req);
	return ret;
}

/*
 * Undo everything tnvme_map_data() and tnvme_setup_discard() set up.
 * Safe to call twice: it clears what it freed.
 */
void tnvme_unmap_data(struct tnvme_dev *dev, struct request *req)
{
	struct tnvme_iod *iod = tnvme_iod(req);
	struct tnvme_queue *q = req->mq_hctx->driver_data;
	int i;

	if (!iod->mapped && !iod->mapped_page && !iod->dsm &&
	    !iod->nr_list_pages)
		return;

	for (i = 0; i < iod->nr_list_pages; i++) {
		struct dma_pool *pool = (i == 0 && iod->small_list) ?
			dev->prp_small_pool : dev->prp_page_pool;

		dma_pool_free(pool, iod->list[i], iod->list_dma[i]);
	}
	if (iod->dsm)
		dma_pool_free(iod->dsm_small ? dev->prp_small_pool :
			      dev->prp_page_pool, iod->dsm, iod->dsm_dma);
	if (iod->mapped)
		dma_unmap_sg(&dev->pdev->dev, iod->sg, iod->nents,
			     rq_dma_dir(req));
	if (iod->mapped_page)
		dma_unmap_page(&dev->pdev->dev, iod->page_dma,
			       blk_rq_payload_bytes(req), rq_dma_dir(req));

	trace_tnvme_dma_unmap(dev->instance, q->qid, req->tag,
			      op_is_write(req_op(req)),
			      iod->mapped || iod->mapped_page ?
			      blk_rq_payload_bytes(req) : 0,
			      iod->prp_entries, iod->nr_list_pages);
	iod->mapped = false;
	iod->mapped_page = false;
	iod->dsm = NULL;
	iod->nr_list_pages = 0;
}

/* ---------------------------------------------------------------------
 * The sq_write and sq_doorbell steps: the submission queue and its
 * doorbell (3.3).
 */

/*
 * Put one command into SQ slot @slot.  In host memory a memcpy() does it.
 * In the Controller Memory Buffer it does not: that is I/O memory behind
 * a PCI BAR (an __iomem pointer), which a plain memcpy() may read back,
 * touch in any order or width, or, on some architectures, not reach at
 * all; memcpy_toio() is the copy made for it.  The CMB is mapped
 * write-combined (tnvme_map_cmb()), so the command's stores may still sit
 * in the CPU's write-combining buffer: wmb() drains it, so that no
 * doorbell, MMIO or shadow, can make the controller fetch a half-written
 * command.
 */
static void tnvme_sq_put_cmd(struct tnvme_queue *q, u16 slot,
			     struct nvme_command *c)
{
	if (q->sq_cmds_io) {
		memcpy_toio(&q->sq_cmds_io[slot], c, sizeof(*c));
		wmb();	/* drain the write-combining buffer: see above */
	} else {
		memcpy(&q->sq_cmds[slot], c, sizeof(*c));
	}
}

/* Copy one command into the SQ slot at the tail and advance the tail. */
static void tnvme_sq_copy_cmd(struct tnvme_queue *q, struct nvme_command *c,
			      u64 slba, u32 nlb, u32 data_len)
{
	tnvme_sq_put_cmd(q, q->sq_tail, c);
	trace_tnvme_sq_write(q->dev->instance, q->qid, c->common.command_id,
			     q->sq_tail, c->common.opcode,
			     le32_to_cpu(c->common.nsid), slba, nlb, data_len,
			     tnvme_sq_mem(q));
	if (++q->sq_tail == q->depth)
		q->sq_tail = 0;		/* the SQ is a ring: wrap */
	/* LAB-TODO(10) begin: note the SQ head the host knows, before the doorbell */
	q->sq_head_at_copy = READ_ONCE(q->sq_head);
	/* LAB-TODO(10) end */
}

/*
 * Ring the SQ tail doorbell: tell the controller that the slots up to
 * (not including) sq_tail hold new commands.
 *
 * With shadow doorbells (tnvme_shadow_db_update()) the new tail goes to
 * the shadow buffer first, and the MMIO write happens only if the
 * controller asked for it.  Interrupts stay off from that update to the
 * trace: the controller may see the shadow value at once, and its
 * completion interrupt must not run on this CPU before the doorbell is
 * traced.
 *
 * blk-mq tells us with bd->last whether more requests follow in this
 * batch; if so, we skip the doorbell (one MMIO write for many commands)
 * and blk-mq promises to call tnvme_commit_rqs() or another queue_rq()
 * with last set.  One exception: if the next command would make the tail
 * catch up with the last value we wrote, the controller could no longer
 * tell "full" from "empty", so ring now.
 *
 * writel() orders the SQ entry's memory writes before the MMIO write on
 * every architecture, so the controller never fetches a half-written
 * command.  Called with q->sq_lock held.
 */
static void tnvme_write_sq_db(struct tnvme_queue *q, bool force)
{
	/* LAB-TODO(05) begin: ring the SQ tail doorbell, batching on bd->last */
	unsigned long flags;
	bool mmio = true;
	u16 cmds;

	if (!force) {
		u16 next_tail = q->sq_tail + 1;

		if (next_tail == q->depth)
			next_tail = 0;
		if (next_tail != q->last_sq_tail)
			return;
	}
	/*
	 * Trace before the MMIO write: once the doorbell is rung, the
	 * completion interrupt may run on this CPU before the next line.
	 */
	cmds = (q->sq_tail + q->depth - q->last_sq_tail) % q->depth;
	local_irq_save(flags);
	/* without shadow doorbells, every doorbell is an MMIO write */
	if (q->shadow_sq_db)
		mmio = tnvme_shadow_db_update(q->shadow_sq_db, q->sq_event_idx,
					      q->sq_tail);
	trace_tnvme_sq_doorbell(q->dev->instance, q->qid, q->sq_tail, cmds,
				mmio);
	if (mmio)
		writel(q->sq_tail, q->sq_db);
	local_irq_restore(flags);
	q->last_sq_tail = q->sq_tail;
	/* LAB-TODO(05) end */
}

/*
 * After each tnvme_write_sq_db(), with q->sq_lock held: if it rang the
 * doorbell (the tail it last wrote is the tail now), fire tnvme_sq_level,
 * how many SQ slots were in use as far as the host knew when it rang (lab
 * 10).  The SQ head is the one noted when the last command was copied,
 * before the doorbell: read after it, a completion handled meanwhile on
 * another CPU could already count commands of this very doorbell as
 * fetched.
 */
static void tnvme_trace_sq_level(struct tnvme_queue *q)
{
	/* LAB-TODO(10) begin: if the doorbell was rung, trace the SQ slots in use */
	u16 head = q->sq_head_at_copy;

	if (q->last_sq_tail != q->sq_tail || !trace_tnvme_sq_level_enabled())
		return;
	/* slots head .. tail - 1 of the ring, this doorbell's commands included */
	trace_tnvme_sq_level(q->dev->instance, q->qid, head,
			     (q->sq_tail + q->depth - head) % q->depth);
	/* LAB-TODO(10) end */
}

/* blk-mq: the batch is over, ring the doorbell if we held it back. */
static void tnvme_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct tnvme_queue *q = hctx->driver_data;

	spin_lock(&q->sq_lock);
	if (q->sq_tail != q->last_sq_tail) {
		tnvme_write_sq_db(q, true);
		tnvme_trace_sq_level(q);
	}
	spin_unlock(&q->sq_lock);
}

/*
 * The blk-mq entry point, for the admin queue and the I/O queues alike.
 * The command id (CID) is the request's tag: unique among the commands in
 * flight on this queue, which is what the spec requires (3.3.3.1), and it
 * lets the completion path find the request again with blk_mq_tag_to_rq().
 */
static blk_status_t tnvme_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct tnvme_queue *q = hctx->driver_data;
	struct tnvme_dev *dev = q->dev;
	struct request *req = bd->rq;
	struct tnvme_iod *iod = tnvme_iod(req);
	struct tnvme_ns *ns = tnvme_req_ns(req);
	u64 slba = 0;
	u32 nlb = 0, bytes = 0;
	blk_status_t ret;

	/*
	 * A queue the controller does not know (disabled, dead, removed)
	 * cannot take commands.  During a reset the namespaces' queues are
	 * quiesced, so I/O waits instead of getting here; what does get here
	 * is failed at once.
	 */
	if (unlikely(!READ_ONCE(q->live)))
		return BLK_STS_IOERR;

	/*
	 * RQF_DONTPREP: blk-mq keeps it while a request is requeued, and a
	 * new request starts without it.  So retries counts the requeues of
	 * this one request and starts at 0 for a new one.
	 */
	if (!(req->rq_flags & RQF_DONTPREP)) {
		iod->retries = 0;
		req->rq_flags |= RQF_DONTPREP;
	}
	iod->aborted = false;
	iod->status = 0;
	iod->result = 0;
	iod->nents = 0;
	iod->mapped = false;
	iod->mapped_page = false;
	iod->prp_entries = 0;
	iod->nr_list_pages = 0;
	iod->dsm = NULL;

	ret = tnvme_setup_cmd(req);
	if (ret)
		return ret;
	iod->cmd.common.command_id = req->tag;

	blk_mq_start_request(req);
	if (blk_rq_nr_phys_segments(req) && req_op(req) != REQ_OP_DISCARD)
		bytes = blk_rq_payload_bytes(req);
	trace_tnvme_rq_start(dev->instance, q->qid, req->tag,
			     raw_smp_processor_id(), iod->cmd.common.opcode,
			     bytes, 0);

	if (bytes) {
		ret = tnvme_map_data(dev, req);
		if (ret) {
			tnvme_unmap_data(dev, req);
			return ret;
		}
	}
	if (bytes || iod->dsm)
		trace_tnvme_dma_map(dev->instance, q->qid, req->tag,
				    op_is_write(req_op(req)), bytes,
				    iod->prp_entries, iod->nr_list_pages);

	if (tnvme_has_lba_range(req)) {
		slba = tnvme_sect_to_lba(ns, blk_rq_pos(req));
		nlb = blk_rq_bytes(req) >> ns->lba_shift;
	}

	spin_lock(&q->sq_lock);
	tnvme_sq_copy_cmd(q, &iod->cmd, slba, nlb, bytes);
	tnvme_write_sq_db(q, bd->last);
	tnvme_trace_sq_level(q);
	spin_unlock(&q->sq_lock);
	return BLK_STS_OK;
}

/* ---------------------------------------------------------------------
 * Tag sets and queue setup.
 */

static int tnvme_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			   unsigned int hctx_idx)
{
	struct tnvme_dev *dev = data;

	/* Hardware context i is I/O queue i + 1 (queue 0 is admin). */
	hctx->driver_data = &dev->queues[hctx_idx + 1];
	return 0;
}

static int tnvme_admin_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
				 unsigned int hctx_idx)
{
	struct tnvme_dev *dev = data;

	hctx->driver_data = tnvme_admin_queue(dev);
	return 0;
}

/*
 * Which CPUs submit to which hardware queue (blk-mq's map: CPU -> hardware
 * context; context i is I/O queue i + 1).  It must follow the managed
 * affinity the IRQ core gave the MSI-X vectors (tnvme_setup_irq_vectors()),
 * so that a queue's interrupt fires on a CPU that submits to that queue
 * and each completion is handled where its request was issued.
 */
static void tnvme_map_queues(struct blk_mq_tag_set *set)
{
	/* LAB-TODO(06) begin: map each CPU to the queue whose vector is affine to it */
	struct tnvme_dev *dev = set->driver_data;

	/* Queue i + 1 raises vector i + 1: skip vector 0, the admin queue's. */
	blk_mq_pci_map_queues(&set->map[HCTX_TYPE_DEFAULT], dev->pdev, 1);
	/* LAB-TODO(06) end */
}

/*
 * blk-mq's ->map_queues: the sizes of the maps, then each map.  Hardware
 * contexts 0..N-1 are the interrupt-driven queues 1..N (HCTX_TYPE_DEFAULT,
 * mapped by tnvme_map_queues()), the rest the poll queues
 * (HCTX_TYPE_POLL): they have no interrupt, and so no CPU affinity to
 * follow, and are spread over the CPUs evenly.  No HCTX_TYPE_READ map: we
 * do not split reads from writes (the stock driver's write_queues).
 */
static void tnvme_map_all_queues(struct blk_mq_tag_set *set)
{
	struct tnvme_dev *dev = set->driver_data;
	unsigned int nr_irq = dev->nr_io_queues - dev->nr_poll_queues;

	set->map[HCTX_TYPE_DEFAULT].nr_queues = nr_irq;
	set->map[HCTX_TYPE_DEFAULT].queue_offset = 0;
	tnvme_map_queues(set);
	if (set->nr_maps <= HCTX_TYPE_POLL)
		return;
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	set->map[HCTX_TYPE_POLL].nr_queues = dev->nr_poll_queues;
	set->map[HCTX_TYPE_POLL].queue_offset = nr_irq;
	blk_mq_map_queues(&set->map[HCTX_TYPE_POLL]);
}

const struct blk_mq_ops tnvme_admin_mq_ops = {
	.queue_rq	= tnvme_queue_rq,
	.complete	= tnvme_complete_rq,
	.init_hctx	= tnvme_admin_init_hctx,
	.timeout	= tnvme_timeout,
};

const struct blk_mq_ops tnvme_io_mq_ops = {
	.queue_rq	= tnvme_queue_rq,
	.commit_rqs	= tnvme_commit_rqs,
	.complete	= tnvme_complete_rq,
	.init_hctx	= tnvme_init_hctx,
	.map_queues	= tnvme_map_all_queues,
	.poll		= tnvme_poll,
	.timeout	= tnvme_timeout,
};

/*
 * Limits every queue of ours needs, so requests fit what the PRP code
 * can describe: at most max_xfer bytes and TNVME_MAX_SEGS segments, no
 * segment crossing a 4 KiB boundary except at its start and end (the
 * virtual boundary), dword-aligned buffers (PRP offsets must be).
 */
void tnvme_set_queue_limits(struct tnvme_dev *dev, struct request_queue *q)
{
	/* LAB-TODO(08) begin: the transfer limit from MDTS */
	blk_queue_max_hw_sectors(q, dev->max_xfer >> SECTOR_SHIFT);
	/* LAB-TODO(08) end */
	blk_queue_max_segments(q, TNVME_MAX_SEGS);
	blk_queue_virt_boundary(q, TNVME_CTRL_PAGE_SIZE - 1);
	blk_queue_dma_alignment(q, 3);
}

int tnvme_alloc_admin_queue(struct tnvme_dev *dev)
{
	struct blk_mq_tag_set *set = &dev->admin_set;
	int ret;

	set->ops = &tnvme_admin_mq_ops;
	set->nr_hw_queues = 1;
	/*
	 * A ring of N entries holds N - 1 commands (see the top of
	 * queues.c).  One tag is kept for the Asynchronous Event Request,
	 * which stays with the controller until an event happens
	 * (tnvme_submit_async_event()).
	 */
	set->queue_depth = TNVME_ADMIN_DEPTH - 1;
	set->reserved_tags = 1;
	set->timeout = tnvme_io_timeout * HZ;
	set->numa_node = dev_to_node(&dev->pdev->dev);
	set->cmd_size = sizeof(struct tnvme_iod);
	set->flags = BLK_MQ_F_NO_SCHED;
	set->driver_data = dev;

	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;
	dev->admin_q = blk_mq_init_queue(set);
	if (IS_ERR(dev->admin_q)) {
		ret = PTR_ERR(dev->admin_q);
		dev->admin_q = NULL;
		blk_mq_free_tag_set(set);
		return ret;
	}
	/* Identify has not run yet: until then allow one 4 KiB page. */
	dev->max_xfer = TNVME_CTRL_PAGE_SIZE;
	tnvme_set_queue_limits(dev, dev->admin_q);
	return 0;
}

void tnvme_free_admin_queue(struct tnvme_dev *dev)
{
	if (!dev->admin_q)
		return;
	blk_mq_destroy_queue(dev->admin_q);
	blk_put_queue(dev->admin_q);
	blk_mq_free_tag_set(&dev->admin_set);
	dev->admin_q = NULL;
}

/*
 * One tag set for all namespaces: nr_hw_queues = number of I/O queues,
 * queue_depth = entries - 1.  Called after Identify, so the admin queue
 * can now take full-size passthrough transfers too.
 */
int tnvme_alloc_io_tag_set(struct tnvme_dev *dev)
{
	struct blk_mq_tag_set *set = &dev->io_set;
	int ret;

	tnvme_set_queue_limits(dev, dev->admin_q);

	set->ops = &tnvme_io_mq_ops;
	set->nr_hw_queues = dev->nr_io_queues;
	/* DEFAULT, READ (unused) and POLL, or DEFAULT alone. */
	set->nr_maps = dev->nr_poll_queues ? HCTX_MAX_TYPES : 1;
	set->queue_depth = dev->io_depth - 1;
	set->timeout = tnvme_io_timeout * HZ;
	set->numa_node = dev_to_node(&dev->pdev->dev);
	set->cmd_size = sizeof(struct tnvme_iod);
	set->flags = BLK_MQ_F_SHOULD_MERGE;
	set->driver_data = dev;

	ret = blk_mq_alloc_tag_set(set);
	if (!ret)
		dev->io_set_allocated = true;
	return ret;
}

void tnvme_free_io_tag_set(struct tnvme_dev *dev)
{
	if (!dev->io_set_allocated)
		return;
	blk_mq_free_tag_set(&dev->io_set);
	dev->io_set_allocated = false;
}
