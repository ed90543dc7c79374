"""`rota simulate`: scenario files, the simulated world, baseline policies, metrics and reports.

Nothing here is imported by `rota select` or `rota run`; the `rota` policy in the simulator calls
the product's own rota.learning.policy.select.
"""
