/* Placeholder until the dashboard's publisher lands: publishes nothing. */
#include "publish.h"

void
publish_start(void)
{
}

int
publish_update(void)
{
	return 1000;
}

void
publish_stop(void)
{
}
