// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "env.h"

const char *env_topology(void)
{
	const char *s = getenv("SMMUV3_TOPOLOGY");

	return s && *s ? s : NULL;
}

const char *env_driver(void)
{
	const char *s = getenv("SMMUV3_DRIVER");

	return s && *s ? s : NULL;
}

int env_expect_instances(void)
{
	const char *s = getenv("SMMUV3_EXPECT_INSTANCES");
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	n = strtol(s, &end, 10);
	if (*end || n < 0 || n > 1024)
		return -1;
	return n;
}

bool env_topology_is(const char *prefix)
{
	const char *t = env_topology();

	return t && !strncmp(t, prefix, strlen(prefix));
}

bool env_driver_ours(void)
{
	const char *d = env_driver();

	return d && !strcmp(d, "ours");
}
