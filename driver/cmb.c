// SPDX-License-Identifier: GPL-2.0
/*
 * The Controller Memory Buffer (CMB): memory on the controller, behind
 * one of its PCI BARs, that the host may use for queues and data instead
 * of host memory.
 *
 * tnvme puts I/O submission queues there when the controller allows it
 * (CMBSZ.SQS) and the use_cmb_sqes parameter is on.  Then the sq_write
 * step is a 64-byte write across PCIe into device memory, and the fetch
 * step never leaves the controller: it reads its own memory instead of
 * sending a DMA read to host RAM.  The admin SQ stays in host memory
 * (the stock driver does the same: a controller must work without its
 * CMB, and the admin queue is what we debug a controller with).
 *
 * Two controller properties describe the CMB (3.1.3.11, 3.1.3.12):
 *
 *   CMBLOC: which BAR (BIR) and the offset in it (OFST, in CMBSZ units)
 *   CMBSZ:  size (SZ) in units of SZU (4 KiB << 4 * SZU), and what it
 *           may hold: SQS (submission queues), CQS, LISTS, RDS, WDS
 *
 * Since NVMe 1.4, a controller that sets CAP.CMBS reads both as zero
 * until the host sets CMBMSC.CRE (Capabilities Registers Enabled,
 * 3.1.3.16), and uses addresses in the CMB only after the host sets
 * CMBMSC.CMSE and tells it, in CMBMSC.CBA, the address at which the host
 * sees the CMB.  QEMU's controller is such a controller.
 */
#include <linux/io.h>
#include <linux/io-64-nonatomic-hi-lo.h>

#include "tnvme.h"

/* CMBSZ.SZU: 0 = 4 KiB, 1 = 64 KiB, ... each unit 16 times the last */
static u64 tnvme_cmb_unit(u32 cmbsz)
{
	u8 szu = (cmbsz >> NVME_CMBSZ_SZU_SHIFT) & NVME_CMBSZ_SZU_MASK;

	return 1ULL << (12 + 4 * szu);
}

static u64 tnvme_cmb_size(u32 cmbsz)
{
	return ((cmbsz >> NVME_CMBSZ_SZ_SHIFT) & NVME_CMBSZ_SZ_MASK) *
		tnvme_cmb_unit(cmbsz);
}

/*
 * Tell a CAP.CMBS controller where the host sees its CMB, and let it use
 * CMB addresses (CMBMSC.CMSE).  Called at probe and again before every
 * CC.EN = 1 (tnvme_start_admin_queue()): whether CMBMSC survives a
 * controller reset is up to the controller, and queues in the CMB are
 * created right after each enable.
 */
void tnvme_cmb_program(struct tnvme_dev *dev)
{
	if (!dev->cmb || !NVME_CAP_CMBS(dev->cap))
		return;
	/*
	 * High half first: CMSE is in the low half, and the controller may
	 * take CBA as it stands when CMSE is written (QEMU's does; a later
	 * write of the high half is only stored).  Low half first would
	 * enable the CMB at a wrong address whenever the BAR lies above
	 * 4 GiB.  The stock driver writes it in the same order.
	 */
	hi_lo_writeq(NVME_CMBMSC_CRE | NVME_CMBMSC_CMSE | dev->cmb_bus_addr,
		     dev->bar + NVME_REG_CMBMSC);
}

/*
 * Find the CMB and map it, at probe.  No CMB, or one that cannot hold
 * SQs, is not an error: the queues then live in host memory.
 *
 * Why ioremap_wc() here: the stock driver of Linux 6.1 hands the CMB to
 * the PCI peer-to-peer DMA layer (pci_p2pdma_add_resource()) and takes
 * its SQs from there, but Debian's kernel is built without
 * CONFIG_PCI_P2PDMA, so on the lab kernel the stock driver cannot
 * register the CMB and keeps its SQs in host memory.  We map the BAR
 * ourselves, as the stock driver did before peer-to-peer DMA existed.
 * Write-combined: the CPU may merge the stores of one 64-byte command
 * into a single PCIe write instead of sending eight or sixteen small
 * ones; the price is that the stores may sit in a write-combining
 * buffer until something drains it (see tnvme_sq_put_cmd()).
 */
void tnvme_map_cmb(struct tnvme_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	u64 size, offset;
	u32 cmbsz, cmbloc;
	int bir;

	if (NVME_CAP_CMBS(dev->cap))
		writel(NVME_CMBMSC_CRE, dev->bar + NVME_REG_CMBMSC);
	cmbsz = readl(dev->bar + NVME_REG_CMBSZ);
	if (!cmbsz)
		return;
	cmbloc = readl(dev->bar + NVME_REG_CMBLOC);
	size = tnvme_cmb_size(cmbsz);
	offset = tnvme_cmb_unit(cmbsz) * NVME_CMB_OFST(cmbloc);
	bir = NVME_CMB_BIR(cmbloc);
	dev_info(&pdev->dev,
		 "CMB: %llu KiB at offset %llu of BAR %d (CMBSZ 0x%x CMBLOC 0x%x)%s\n",
		 size >> 10, offset, bir, cmbsz, cmbloc,
		 cmbsz & NVME_CMBSZ_SQS ? ", SQs allowed" : ", no SQs allowed");
	if (!(cmbsz & NVME_CMBSZ_SQS) || bir > PCI_STD_NUM_BARS - 1 ||
	    !(pci_resource_flags(pdev, bir) & IORESOURCE_MEM))
		return;
	/* A CMB larger than its BAR: use the part the BAR holds. */
	if (offset >= pci_resource_len(pdev, bir))
		return;
	size = min_t(u64, size, pci_resource_len(pdev, bir) - offset);

	dev->cmb = ioremap_wc(pci_resource_start(pdev, bir) + offset, size);
	if (!dev->cmb) {
		dev_warn(&pdev->dev, "cannot map the CMB: SQs stay in host memory\n");
		return;
	}
	dev->cmb_size = size;
	/* The address the controller sees: the BAR's bus address, not the CPU's */
	dev->cmb_bus_addr = pci_bus_address(pdev, bir) + offset;
	dev->cmb_used = 0;
	tnvme_cmb_program(dev);
}

void tnvme_unmap_cmb(struct tnvme_dev *dev)
{
	if (!dev->cmb)
		return;
	iounmap(dev->cmb);
	dev->cmb = NULL;
}

/*
 * Room for one SQ of @size bytes in the CMB, or NULL when the parameter
 * is off or the CMB is full (the caller then uses host memory).  The
 * queues of a controller are allocated once at probe and freed together
 * at remove, so a simple bump allocator is enough.  Each queue starts on
 * a controller page (4 KiB): PC = 1 queues must be page aligned (5.5).
 */
void __iomem *tnvme_cmb_alloc_sq(struct tnvme_dev *dev, size_t size,
				 dma_addr_t *dma)
{
	u64 start = ALIGN(dev->cmb_used, TNVME_CTRL_PAGE_SIZE);

	if (!dev->cmb || !tnvme_use_cmb_sqes || start + size > dev->cmb_size)
		return NULL;
	dev->cmb_used = start + size;
	*dma = dev->cmb_bus_addr + start;
	return dev->cmb + start;
}

/* At the end of probe: where the I/O SQs went. */
void tnvme_cmb_report(struct tnvme_dev *dev)
{
	unsigned int i, n = 0;

	if (!dev->cmb)
		return;
	for (i = 1; i <= dev->nr_io_queues; i++)
		if (dev->queues[i].sq_cmds_io)
			n++;
	dev_info(&dev->pdev->dev,
		 "tnvme%d: %u of %u I/O SQs in the CMB (use_cmb_sqes=%d), %llu KiB of %llu used\n",
		 dev->instance, n, dev->nr_io_queues, tnvme_use_cmb_sqes,
		 dev->cmb_used >> 10, dev->cmb_size >> 10);
}

/* All queues are gone: the whole CMB is free again. */
void tnvme_cmb_free_sqs(struct tnvme_dev *dev)
{
	dev->cmb_used = 0;
}
