"""Job modules, one per concern; importing this package registers them all."""

import importlib

JOB_MODULES = (
    "workers.jobs.clicks",
    "workers.jobs.webhooks",
    "workers.jobs.codes",
    "workers.jobs.payouts",
    "workers.jobs.periodic",
    "workers.jobs.rewards",
    "workers.jobs.woocommerce",
    "workers.jobs.shopify",
    "workers.jobs.ledger",
    "workers.jobs.metrics",
    "workers.jobs.email",
    "workers.jobs.try_and_tag",
    "workers.jobs.lift",
)

for _module in JOB_MODULES:
    importlib.import_module(_module)
