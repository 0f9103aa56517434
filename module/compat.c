// SPDX-License-Identifier: GPL-2.0-only
/*
 * What differs between kernels, on the driver's side: adapters for iommu
 * core interfaces that older kernels have in another form, and the list of
 * features this build offers, reported once at load and in
 * /sys/kernel/debug/smmuv3/build.  The probes behind it are in
 * module/compat-probe.sh, the macros in include/smmuv3/compat.h.
 */
#include <linux/acpi.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/of_device.h>
#include <linux/pci.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>

#include <smmuv3/smmuv3.h>

/**
 * smmuv3_compat_dma_configure() - configure the DMA of a PCI device that has
 * no driver, as the iommu core's bus probe does on Linux 7.x
 * @dev: a PCI device, locked (device_lock()), with no driver and no group
 *
 * Linux 7.x's bus probe calls the bus's dma_configure() for a device that
 * has no driver: firmware (IORT or the DT iommu-map) gives it a fwspec and
 * the core an IOMMU group.  Linux 6.12 configures a device's DMA only when
 * a driver binds it, so a module registered after PCI enumeration leaves
 * every device that has no driver yet without a group, and its IOMMU
 * description unknown until then.  This does what pci_dma_configure() does
 * for the host bridge's firmware node, without the driver's claim on the
 * default domain (there is no driver); a driver bound later configures the
 * device again, which finds it probed.  The kernel has no way to say which
 * behaviour it has, so the caller decides at run time: only a device still
 * without a group after the registration is given to this.
 *
 * Return: 0, or the firmware code's error (-EPROBE_DEFER: its IOMMU is not
 * registered yet; -ENODEV: not behind an IOMMU).
 */
int smmuv3_compat_dma_configure(struct device *dev)
{
	struct pci_host_bridge *hb = pci_find_host_bridge(to_pci_dev(dev)->bus);
	struct device *bridge = &hb->dev;

	if (IS_ENABLED(CONFIG_OF) && bridge->parent && bridge->parent->of_node)
		return of_dma_configure_id(dev, bridge->parent->of_node, true, NULL);
	if (has_acpi_companion(bridge))
		return acpi_dma_configure_id(dev, device_get_dma_attr(bridge), NULL);
	return -ENODEV;
}

#if !SMMUV3_HAVE_IOMMU_DOMAIN_ALLOC_PAGING_FLAGS
/**
 * smmuv3_compat_domain_alloc_paging() - domain_alloc_paging, for the DMA API
 * and iommufd's automatic domains on kernels without
 * domain_alloc_paging_flags
 * @dev: the device the domain is first meant for
 *
 * Return: as smmuv3_domain_alloc_paging_flags() without flags.
 */
struct iommu_domain *smmuv3_compat_domain_alloc_paging(struct device *dev)
{
	return smmuv3_domain_alloc_paging_flags(dev, 0, NULL);
}

#if SMMUV3_HAVE_IOMMU_DOMAIN_ALLOC_USER
/**
 * smmuv3_compat_domain_alloc_user() - domain_alloc_user, iommufd's HWPT
 * allocation on kernels without domain_alloc_paging_flags
 * @dev: the device the domain is first meant for
 * @flags: IOMMU_HWPT_ALLOC_* flags
 * @parent: the parent of a nested domain: refused, nested domains need the
 *	vIOMMU interface, which those kernels lack
 * @user_data: must be NULL
 *
 * Return: as smmuv3_domain_alloc_paging_flags(), or ERR_PTR(-EOPNOTSUPP)
 * for a nested domain.
 */
struct iommu_domain *
smmuv3_compat_domain_alloc_user(struct device *dev, u32 flags,
				struct iommu_domain *parent,
				const struct iommu_user_data *user_data)
{
	if (parent)
		return ERR_PTR(-EOPNOTSUPP);
	return smmuv3_domain_alloc_paging_flags(dev, flags, user_data);
}
#endif
#endif

/*
 * Why a feature may be missing: the kernel has no interface for it (then
 * the code is not even built), or the kernel was built without iommufd
 * (then the code is there but nothing can reach it).
 */
enum smmuv3_build_why {
	SMMUV3_BUILT_IN,
	SMMUV3_WHY_INTERFACE,
	SMMUV3_WHY_IOMMUFD,
};

static const char *const smmuv3_build_why_str[] = {
	[SMMUV3_WHY_INTERFACE] = "kernel interface missing",
	[SMMUV3_WHY_IOMMUFD] = "kernel built without CONFIG_IOMMUFD",
};

/**
 * struct smmuv3_build_feature - a feature that depends on the kernel
 * @name: its name in smmuv3/build and in the load message
 * @interface: the kernel has the interfaces the feature needs
 * @iommufd: the feature is used through iommufd only
 * @needs: what kernel interface it needs, for the messages
 */
struct smmuv3_build_feature {
	const char *name;
	bool interface;
	bool iommufd;
	const char *needs;
};

static const struct smmuv3_build_feature smmuv3_build_features[] = {
	{ "iommufd_hwpt",
	  SMMUV3_HAVE_IOMMU_DOMAIN_ALLOC_PAGING_FLAGS ||
	  SMMUV3_HAVE_IOMMU_DOMAIN_ALLOC_USER, true,
	  "domain_alloc_paging_flags or domain_alloc_user" },
	{ "hwpt_pasid", SMMUV3_HAVE_IOMMU_HWPT_ALLOC_PASID, true,
	  "IOMMU_HWPT_ALLOC_PASID" },
	{ "hw_info", SMMUV3_HAVE_HW_INFO, true,
	  "IOMMU_HW_INFO_TYPE_ARM_SMMUV3 with type requests" },
	{ "viommu", SMMUV3_HAVE_VIOMMU, true,
	  "iommufd vIOMMU API: viommu_init, vdevice_init, ARM SMMUv3 uapi types" },
	{ "nested", SMMUV3_HAVE_VIOMMU, true,
	  "IOMMU_HWPT_DATA_ARM_SMMUV3 on a vIOMMU" },
	{ "veventq", SMMUV3_HAVE_VIOMMU, true,
	  "iommufd_viommu_report_event" },
	{ "s2fwb_tables", SMMUV3_HAVE_IO_PGTABLE_QUIRK_ARM_S2FWB,
	  false, "IO_PGTABLE_QUIRK_ARM_S2FWB" },
	{ "canwbs", SMMUV3_HAVE_IOMMU_FWSPEC_PCI_RC_CANWBS, false,
	  "IOMMU_FWSPEC_PCI_RC_CANWBS" },
	{ "ats_required", SMMUV3_HAVE_PCI_ATS_REQUIRED, false,
	  "pci_ats_required" },
};

/* Whether @f is available, else why not. */
static enum smmuv3_build_why
smmuv3_build_why(const struct smmuv3_build_feature *f)
{
	if (!f->interface)
		return SMMUV3_WHY_INTERFACE;
	if (f->iommufd && !SMMUV3_KERNEL_HAS_IOMMUFD)
		return SMMUV3_WHY_IOMMUFD;
	return SMMUV3_BUILT_IN;
}

/* Append to @buf the names of the features missing for @why. */
static size_t smmuv3_build_list(char *buf, size_t len, size_t pos,
				enum smmuv3_build_why why)
{
	const char *sep = "";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(smmuv3_build_features); i++) {
		const struct smmuv3_build_feature *f = &smmuv3_build_features[i];

		if (smmuv3_build_why(f) != why)
			continue;
		pos += scnprintf(buf + pos, len - pos, "%s%s", sep, f->name);
		sep = ", ";
	}
	return pos;
}

static bool smmuv3_build_lacks(enum smmuv3_build_why why)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(smmuv3_build_features); i++)
		if (smmuv3_build_why(&smmuv3_build_features[i]) == why)
			return true;
	return false;
}

/**
 * smmuv3_compat_report() - say once what this build cannot offer, and why
 *
 * One line at module load, nothing when every feature is there.
 */
void smmuv3_compat_report(void)
{
	bool no_if = smmuv3_build_lacks(SMMUV3_WHY_INTERFACE);
	bool no_fd = smmuv3_build_lacks(SMMUV3_WHY_IOMMUFD);
	char line[384];
	size_t pos = 0;

	if (!no_if && !no_fd)
		return;
	if (no_if) {
		pos += scnprintf(line + pos, sizeof(line) - pos,
				 "built without ");
		pos = smmuv3_build_list(line, sizeof(line), pos,
					SMMUV3_WHY_INTERFACE);
		pos += scnprintf(line + pos, sizeof(line) - pos,
				 ": kernel %s has no interface for them%s",
				 init_utsname()->release, no_fd ? "; " : "");
	}
	if (no_fd) {
		pos += scnprintf(line + pos, sizeof(line) - pos, "no ");
		pos = smmuv3_build_list(line, sizeof(line), pos,
					SMMUV3_WHY_IOMMUFD);
		scnprintf(line + pos, sizeof(line) - pos,
			  ": the kernel was built without CONFIG_IOMMUFD (a kernel with it offers them)");
	}
	pr_info("smmuv3: %s (see smmuv3/build in debugfs)\n", line);
}

/**
 * smmuv3_compat_show() - the smmuv3/build debugfs file
 * @s: the seq_file
 *
 * One line per feature: "<name> yes", or "<name> no (<why>: <what is
 * missing>)", <why> being "kernel interface missing" or "kernel built
 * without CONFIG_IOMMUFD".
 */
void smmuv3_compat_show(struct seq_file *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(smmuv3_build_features); i++) {
		const struct smmuv3_build_feature *f = &smmuv3_build_features[i];
		enum smmuv3_build_why why = smmuv3_build_why(f);

		if (why == SMMUV3_BUILT_IN)
			seq_printf(s, "%s yes\n", f->name);
		else if (why == SMMUV3_WHY_INTERFACE)
			seq_printf(s, "%s no (%s: %s)\n", f->name,
				   smmuv3_build_why_str[why], f->needs);
		else
			seq_printf(s, "%s no (%s)\n", f->name,
				   smmuv3_build_why_str[why]);
	}
}
