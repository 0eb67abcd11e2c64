"""Load-shape benchmarks: several client and server processes on one queue endpoint.

`shapes` runs the shapes and collects their figures; `worker` is the process each
side runs (stdlib-only at import, so the reference library's own virtualenv can
run it by path); `ours` and `reference` adapt the two libraries to it.
"""
