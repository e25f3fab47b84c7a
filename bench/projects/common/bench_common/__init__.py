"""Package-neutral parts of the two benchmark sites (settings, flows, worker).

Everything here talks to the package under test through its public REST API
or through the small per-site adapter named by ``settings.BENCH_ADAPTER``.
"""
