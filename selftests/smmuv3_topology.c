// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_topology: what the IOMMU core shows in sysfs matches the QEMU
 * topology: the number of SMMU instances, the devices behind each, where
 * the edu devices sit, and the IOMMU groups of the PCI devices.
 *
 * Driver-agnostic: instances are whatever /sys/class/iommu lists.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "kselftest_harness.h"

#include "dmacheck.h"
#include "env.h"
#include "sysfs.h"

#define MAX_INSTANCES 64

struct topo {
	struct strlist inst;
	struct strlist devs[MAX_INSTANCES];
};

static int topo_load(struct topo *t)
{
	int ret;

	strlist_init(&t->inst);
	for (int i = 0; i < MAX_INSTANCES; i++)
		strlist_init(&t->devs[i]);
	ret = iommu_instances(&t->inst);
	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	if (t->inst.n > MAX_INSTANCES)
		return -E2BIG;
	for (int i = 0; i < t->inst.n; i++) {
		ret = iommu_instance_devices(t->inst.v[i], &t->devs[i]);
		if (ret < 0)
			return ret;
	}
	return t->inst.n;
}

static void topo_free(struct topo *t)
{
	for (int i = 0; i < MAX_INSTANCES; i++)
		strlist_free(&t->devs[i]);
	strlist_free(&t->inst);
}

/* Index of the (first) instance listing DEV, -1 if none; *count: how many. */
static int topo_owner(const struct topo *t, const char *dev, int *count)
{
	int owner = -1, n = 0;

	for (int i = 0; i < t->inst.n; i++) {
		if (strlist_contains(&t->devs[i], dev)) {
			if (owner < 0)
				owner = i;
			n++;
		}
	}
	if (count)
		*count = n;
	return owner;
}

static bool is_pci(const char *dev)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s", dev);
	return path_exists(path);
}

#define LOAD_TOPO(t) do { \
	int __r = topo_load(t); \
	ASSERT_LE(0, __r) TH_LOG("reading " SYSFS_IOMMU_CLASS ": %s", strerror(-__r)); \
} while (0)

TEST(instance_count)
{
	int expect = env_expect_instances();
	struct topo t;
	char list[512];

	ASSERT_LE(0, expect) TH_LOG("SMMUV3_EXPECT_INSTANCES is unset or invalid: "
				    "expected the number of SMMU instances of the topology");
	LOAD_TOPO(&t);
	for (int i = 0; i < t.inst.n; i++)
		INFO("instance %s: %d device(s): %s", t.inst.v[i], t.devs[i].n,
		     strlist_join(&t.devs[i], list, sizeof(list)));
	EXPECT_EQ(expect, t.inst.n)
		TH_LOG("topology %s: expected %d IOMMU instance(s) in " SYSFS_IOMMU_CLASS
		       ", found %d: %s", env_topology() ?: "(unset)", expect, t.inst.n,
		       strlist_join(&t.inst, list, sizeof(list)));
	topo_free(&t);
}

TEST(instances_have_devices)
{
	struct topo t;

	LOAD_TOPO(&t);
	if (!t.inst.n)
		SKIP(goto out, "no IOMMU instance in " SYSFS_IOMMU_CLASS);
	for (int i = 0; i < t.inst.n; i++) {
		EXPECT_LT(0, t.devs[i].n)
			TH_LOG("instance %s: expected at least one device in "
			       SYSFS_IOMMU_CLASS "/%s/devices, found none",
			       t.inst.v[i], t.inst.v[i]);
	}
out:
	topo_free(&t);
}

TEST(instances_disjoint)
{
	struct topo t;

	LOAD_TOPO(&t);
	if (t.inst.n < 2)
		SKIP(goto out, "%d instance(s): nothing to compare", t.inst.n);
	for (int i = 0; i < t.inst.n; i++) {
		for (int j = i + 1; j < t.inst.n; j++) {
			for (int k = 0; k < t.devs[i].n; k++) {
				EXPECT_FALSE(strlist_contains(&t.devs[j], t.devs[i].v[k]))
					TH_LOG("expected disjoint device sets, found %s behind "
					       "both %s and %s", t.devs[i].v[k], t.inst.v[i],
					       t.inst.v[j]);
			}
		}
	}
out:
	topo_free(&t);
}

/*
 * Each device listed behind an instance links back to it (DEV/iommu), and
 * each PCI device with an iommu link is listed behind that instance.
 */
TEST(device_links_agree)
{
	struct strlist pci;
	char path[PATH_MAX], link[128];
	struct topo t;
	int ret;

	LOAD_TOPO(&t);
	strlist_init(&pci);
	for (int i = 0; i < t.inst.n; i++) {
		for (int k = 0; k < t.devs[i].n; k++) {
			snprintf(path, sizeof(path), SYSFS_IOMMU_CLASS "/%s/devices/%s/iommu",
				 t.inst.v[i], t.devs[i].v[k]);
			ret = sysfs_link_name(path, link, sizeof(link));
			EXPECT_EQ(0, ret) TH_LOG("%s: expected an iommu link, found none (%s)",
						 path, strerror(-ret));
			if (!ret) {
				EXPECT_STREQ(t.inst.v[i], link)
					TH_LOG("%s is listed behind %s, but expected its iommu "
					       "link to name %s, found %s", t.devs[i].v[k],
					       t.inst.v[i], t.inst.v[i], link);
			}
		}
	}
	ret = pci_find(PCI_ANY_ID16, PCI_ANY_ID16, &pci);
	ASSERT_LE(0, ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s", strerror(-ret));
	for (int k = 0; k < pci.n; k++) {
		int owner;

		if (pci_iommu_instance(pci.v[k], link, sizeof(link)))
			continue;
		owner = topo_owner(&t, pci.v[k], NULL);
		EXPECT_LE(0, owner) TH_LOG("%s links to instance %s, expected it to be "
					   "listed behind it, found it behind none",
					   pci.v[k], link);
	}
	strlist_free(&pci);
	topo_free(&t);
}

/*
 * The edus: each behind exactly one instance; with several instances, the
 * edus under different PCI root buses behind different instances (acpi2:
 * the one under root bus 00 and the one under root bus 08).
 */
TEST(edu_placement)
{
	char root[8][32], list[256];
	struct strlist edus, used;
	int owner[8] = { 0 };
	struct topo t;
	int ret, n;

	ret = edus_configure_unbound();
	ASSERT_LE(0, ret) TH_LOG("binding edus without a group: %s", strerror(-ret));
	LOAD_TOPO(&t);
	strlist_init(&edus);
	strlist_init(&used);
	ret = pci_find(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, &edus);
	ASSERT_LE(0, ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s", strerror(-ret));
	if (!edus.n)
		SKIP(goto out, "no edu device (1234:11e8) in this guest");
	ASSERT_GE(8, edus.n) TH_LOG("expected at most 8 edus, found %d", edus.n);

	for (int i = 0; i < edus.n; i++) {
		ret = pci_root_bus(edus.v[i], root[i], sizeof(root[i]));
		ASSERT_EQ(0, ret) TH_LOG("root bus of %s: %s", edus.v[i], strerror(-ret));
		owner[i] = topo_owner(&t, edus.v[i], &n);
		EXPECT_EQ(1, n) TH_LOG("edu %s: expected behind exactly one instance, "
				       "found behind %d", edus.v[i], n);
		INFO("edu %s under %s behind %s", edus.v[i], root[i],
		     owner[i] >= 0 ? t.inst.v[owner[i]] : "(none)");
		if (owner[i] >= 0 && !strlist_contains(&used, t.inst.v[owner[i]]))
			strlist_add(&used, t.inst.v[owner[i]]);
	}

	if (t.inst.n >= 2) {
		for (int i = 0; i < edus.n; i++) {
			for (int j = i + 1; j < edus.n; j++) {
				if (!strcmp(root[i], root[j]) || owner[i] < 0 || owner[j] < 0)
					continue;
				EXPECT_NE(owner[i], owner[j])
					TH_LOG("edus %s (%s) and %s (%s) sit under different "
					       "root buses: expected them behind different "
					       "instances, found both behind %s",
					       edus.v[i], root[i], edus.v[j], root[j],
					       t.inst.v[owner[i]]);
			}
		}
		n = edus.n < t.inst.n ? edus.n : t.inst.n;
		EXPECT_LE(n, used.n) TH_LOG("%d edus and %d instances: expected edus behind "
					    "%d instances, found behind %d (%s)", edus.n,
					    t.inst.n, n, used.n,
					    strlist_join(&used, list, sizeof(list)));
	}

	if (env_topology_is("acpi2")) {
		int on0 = -1, on8 = -1;

		for (int i = 0; i < edus.n; i++) {
			if (!strcmp(root[i], "pci0000:00"))
				on0 = i;
			else if (!strcmp(root[i], "pci0000:08"))
				on8 = i;
		}
		ASSERT_LE(0, on0) TH_LOG("%s: expected an edu under root bus 0000:00, found "
					 "none", env_topology());
		ASSERT_LE(0, on8) TH_LOG("%s: expected an edu under root bus 0000:08 (the "
					 "pxb-pcie), found none", env_topology());
		EXPECT_NE(owner[on0], owner[on8])
			TH_LOG("%s: expected the edus under root buses 00 and 08 behind "
			       "different instances, found both behind %s", env_topology(),
			       owner[on0] >= 0 ? t.inst.v[owner[on0]] : "(none)");
	}
out:
	strlist_free(&used);
	strlist_free(&edus);
	topo_free(&t);
}

/*
 * All PCI devices under one root bus are behind one instance (each root
 * complex is mapped to a single SMMU here), and with as many instances as
 * root buses, different root buses use different instances.
 */
TEST(root_bus_placement)
{
	struct strlist pci, roots;
	int root_owner[MAX_INSTANCES];
	char root[32], link[128];
	struct topo t;
	int ret;

	LOAD_TOPO(&t);
	strlist_init(&pci);
	strlist_init(&roots);
	ret = pci_find(PCI_ANY_ID16, PCI_ANY_ID16, &pci);
	ASSERT_LE(0, ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s", strerror(-ret));
	for (int k = 0; k < pci.n; k++) {
		int owner, r;

		if (pci_iommu_instance(pci.v[k], link, sizeof(link)))
			continue;	/* not behind an IOMMU: device_links_agree's business */
		owner = topo_owner(&t, pci.v[k], NULL);
		if (owner < 0)
			continue;
		ret = pci_root_bus(pci.v[k], root, sizeof(root));
		ASSERT_EQ(0, ret) TH_LOG("root bus of %s: %s", pci.v[k], strerror(-ret));
		for (r = 0; r < roots.n; r++)
			if (!strcmp(roots.v[r], root))
				break;
		if (r == roots.n) {
			ASSERT_GT(MAX_INSTANCES, roots.n);
			strlist_add(&roots, root);
			root_owner[r] = owner;
			INFO("root bus %s behind %s", root, t.inst.v[owner]);
			continue;
		}
		EXPECT_EQ(root_owner[r], owner)
			TH_LOG("expected all devices under %s behind %s (as the first one), "
			       "found %s behind %s", root, t.inst.v[root_owner[r]], pci.v[k],
			       t.inst.v[owner]);
	}
	if (roots.n >= 2 && roots.n == t.inst.n) {
		for (int a = 0; a < roots.n; a++) {
			for (int b = a + 1; b < roots.n; b++) {
				EXPECT_NE(root_owner[a], root_owner[b])
					TH_LOG("%d root buses and %d instances: expected %s and "
					       "%s behind different instances, found both "
					       "behind %s", roots.n, t.inst.n, roots.v[a],
					       roots.v[b], t.inst.v[root_owner[a]]);
			}
		}
	}
	strlist_free(&roots);
	strlist_free(&pci);
	topo_free(&t);
}

/* Every PCI device behind an instance is in a group that lists it. */
TEST(pci_devices_in_groups)
{
	char path[PATH_MAX], type[32], list[512];
	struct strlist members;
	int checked = 0;
	struct topo t;

	LOAD_TOPO(&t);
	for (int i = 0; i < t.inst.n; i++) {
		for (int k = 0; k < t.devs[i].n; k++) {
			const char *dev = t.devs[i].v[k];
			int g;

			if (!is_pci(dev))
				continue;
			checked++;
			g = pci_iommu_group(dev);
			EXPECT_LE(0, g) TH_LOG("PCI device %s behind %s: expected "
					       SYSFS_PCI_DEVICES "/%s/iommu_group, found "
					       "none (%s)", dev, t.inst.v[i], dev,
					       strerror(-g));
			if (g < 0)
				continue;
			snprintf(path, sizeof(path), SYSFS_IOMMU_GROUPS "/%d/devices/%s", g, dev);
			EXPECT_TRUE(path_exists(path))
				TH_LOG("%s is in group %d: expected %s, found no such entry",
				       dev, g, path);
			strlist_init(&members);
			iommu_group_devices(g, &members);
			if (iommu_group_type(g, type, sizeof(type)) < 0)
				snprintf(type, sizeof(type), "?");
			INFO("%s behind %s: group %d (%s): %s", dev, t.inst.v[i], g, type,
			     strlist_join(&members, list, sizeof(list)));
			strlist_free(&members);
		}
	}
	if (!checked)
		SKIP(goto out, "no PCI device behind any IOMMU instance");
out:
	topo_free(&t);
}

/*
 * The devices of a group share one IOMMU instance, and (DMA aliases)
 * devices below a PCIe-to-PCI bridge share the bridge's group.
 */
TEST(groups_single_instance)
{
	char path[PATH_MAX], link[128], first[128];
	struct strlist members, pci;
	int *groups = NULL, ng, bridges = 0;

	strlist_init(&pci);
	ng = iommu_groups(&groups);
	if (ng == -ENOENT || ng == 0)
		SKIP(goto out, "no IOMMU groups");
	ASSERT_LE(0, ng) TH_LOG("listing " SYSFS_IOMMU_GROUPS ": %s", strerror(-ng));
	for (int i = 0; i < ng; i++) {
		strlist_init(&members);
		iommu_group_devices(groups[i], &members);
		EXPECT_LT(0, members.n) TH_LOG("group %d: expected at least one device, "
					       "found none", groups[i]);
		first[0] = '\0';
		for (int k = 0; k < members.n; k++) {
			snprintf(path, sizeof(path), SYSFS_IOMMU_GROUPS "/%d/devices/%s/iommu",
				 groups[i], members.v[k]);
			if (sysfs_link_name(path, link, sizeof(link)))
				snprintf(link, sizeof(link), "(none)");
			if (!k) {
				snprintf(first, sizeof(first), "%s", link);
				continue;
			}
			EXPECT_STREQ(first, link)
				TH_LOG("group %d: expected all devices behind %s (as %s), "
				       "found %s behind %s", groups[i], first, members.v[0],
				       members.v[k], link);
		}
		strlist_free(&members);
	}

	/* Devices below a PCIe-to-PCI bridge alias to it: same group. */
	pci_find(PCI_ANY_ID16, PCI_ANY_ID16, &pci);
	for (int b = 0; b < pci.n; b++) {
		int bg;

		if (pcie_type(pci.v[b]) != PCI_EXP_TYPE_PCI_BRIDGE)
			continue;
		bridges++;
		bg = pci_iommu_group(pci.v[b]);
		for (int k = 0; k < pci.n; k++) {
			char real[PATH_MAX], needle[64];

			snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s", pci.v[k]);
			snprintf(needle, sizeof(needle), "/%s/", pci.v[b]);
			if (!realpath(path, real) || !strstr(real, needle))
				continue;
			EXPECT_EQ(bg, pci_iommu_group(pci.v[k]))
				TH_LOG("%s is below PCIe-to-PCI bridge %s (group %d): expected "
				       "the same group (DMA alias), found %d", pci.v[k],
				       pci.v[b], bg, pci_iommu_group(pci.v[k]));
		}
	}
	if (!bridges)
		INFO("no PCIe-to-PCI bridge: no DMA aliases to check");
out:
	strlist_free(&pci);
	free(groups);
}

TEST_HARNESS_MAIN
