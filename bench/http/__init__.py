"""`python -m bench.http`: PERFORMANCE.md's protocol as a runnable benchmark.

A seeded world (reused when present), Vermilion under `vermilion serve --workers 2` in production mode and
the raw ceiling (bench/raw_ceiling.py) under uvicorn with 2 workers; a gate that refuses to time anything
until every request answers without errors and Vermilion's JSON equals the raw ceiling's; then wrk
(bench/wrk/graphql.lua) at 1, 16 and 64 connections, warm-up discarded, variants interleaved, 3
repetitions, medians. Results in bench/results/http.md and http.json (history kept). `--quick`: 16
connections, short windows, about two minutes on a world that exists.
"""
