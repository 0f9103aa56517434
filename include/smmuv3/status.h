/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the driver tells the administrator once it has loaded (status.c).
 */
#ifndef SMMUV3_STATUS_H
#define SMMUV3_STATUS_H

struct device_driver;

void smmuv3_status_report(const struct device_driver *ours);

#endif /* SMMUV3_STATUS_H */
