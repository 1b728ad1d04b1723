"""bench.http's pure parts: reading wrk's output, the gate's comparison and id normalisation, the SQL
counter read from /metrics, medians; and the wrk script's error counting against a tiny local server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from bench.http.checks import sql_totals
from bench.http.gate import compare, first_difference, has_errors, normalise_ids
from bench.http.timing import medians
from bench.http.wrk import parse_output, request_line, run_wrk
from core.ids import to_global_id

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8201/graphql
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   452.10ms  120.33ms 950.12ms   70.00%
    Req/Sec    36.12     10.01    60.00     65.00%
  68 requests in 2.00s, 1.10MB read
Requests/sec:     34.00
Transfer/sec:    563.20KB
WRK_JSON {"requests":68,"duration_us":2000000,"bytes":1153000,"errors_body":2,"non200":1,\
"socket_errors":0,"timeouts":0,"p50_us":437300,"p90_us":700000,"p99_us":889900,"max_us":950120,"mean_us":452100.0}
"""


def test_wrk_output_gives_rate_latencies_and_failures() -> None:
    result = parse_output(WRK_OUTPUT)

    assert result.requests == 68
    assert result.rps == pytest.approx(34.0)
    assert (result.p50_ms, result.p99_ms, result.max_ms) == (437.3, 889.9, 950.12)
    assert (result.errors_body, result.non200, result.failures) == (2, 1, 3)


def test_wrk_output_without_the_script_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no WRK_JSON"):
        parse_output(WRK_OUTPUT.split("WRK_JSON")[0])


def test_wrk_output_whose_rate_disagrees_with_its_figures_is_refused() -> None:
    with pytest.raises(ValueError, match="req/s"):
        parse_output(WRK_OUTPUT.replace("Requests/sec:     34.00", "Requests/sec:     68.00"))


def _feed(*note_ids: int) -> dict[str, object]:
    edges = [{"cursor": f"c{n}", "node": {"id": to_global_id("Note", n), "title": "t"}} for n in note_ids]
    return {"data": {"feed": {"edges": edges}}}


def test_normalised_ids_compare_equal_when_they_name_objects_alike() -> None:
    assert normalise_ids(_feed(1, 2)) == normalise_ids(_feed(7, 9))
    # The same note twice is not two different notes.
    assert normalise_ids(_feed(1, 1)) != normalise_ids(_feed(1, 2))


def test_compare_reports_identical_bytes_and_sets_vermilions_extensions_aside() -> None:
    raw = orjson.dumps(_feed(1, 2))
    ours = orjson.dumps({**_feed(1, 2), "extensions": {"cost": {"requestedQueryCost": 3}}})

    verdict = compare(ours, raw)

    assert verdict["identical"] and verdict["equal"]
    assert verdict["extensions_bytes"] == len(ours) - len(raw)


def test_compare_finds_the_first_difference_and_ids_alone_are_not_identical() -> None:
    other_ids = compare(orjson.dumps(_feed(1, 2)), orjson.dumps(_feed(3, 4)))
    assert other_ids["equal"] and not other_ids["identical"]

    changed = _feed(1, 2)
    changed["data"]["feed"]["edges"][1]["node"]["title"] = "u"  # type: ignore[index]
    verdict = compare(orjson.dumps(_feed(1, 2)), orjson.dumps(changed))
    assert not verdict["equal"]
    assert verdict["difference"] == "$.data.feed.edges[1].node.title: 't' != 'u'"


def test_field_order_counts_as_a_difference() -> None:
    assert first_difference({"a": 1, "b": 2}, {"b": 2, "a": 1}) == "$: keys ['a', 'b'] != ['b', 'a']"
    assert first_difference([1, 2], [1]) == "$: 2 items != 1"


def test_errors_are_top_level_or_a_payloads_non_empty_list() -> None:
    assert has_errors({"data": None, "errors": [{"message": "no"}]})
    assert has_errors({"data": {"cartLinesAdd": {"cart": None, "errors": [{"code": "INVALID"}]}}})
    assert not has_errors({"data": {"cartLinesAdd": {"cart": {"id": "x"}, "errors": []}}})
    assert has_errors(["not", "an", "answer"])


def test_sql_statements_are_summed_over_labels_from_the_exposition() -> None:
    exposition = """# HELP vermilion_graphql_sql_statements SQL statements sent to answer one GraphQL HTTP request.
# TYPE vermilion_graphql_sql_statements histogram
vermilion_graphql_sql_statements_bucket{le="1.0",operation_type="query"} 0.0
vermilion_graphql_sql_statements_bucket{le="+Inf",operation_type="query"} 10.0
vermilion_graphql_sql_statements_count{operation_type="query"} 10.0
vermilion_graphql_sql_statements_sum{operation_type="query"} 60.0
vermilion_graphql_sql_statements_count{operation_type="mutation"} 2.0
vermilion_graphql_sql_statements_sum{operation_type="mutation"} 8.0
"""
    assert sql_totals(exposition) == (68.0, 12.0)


def _window(variant: str, rps: float, cpu: float, repetition: int) -> dict[str, object]:
    return {
        "kind": "feed",
        "variant": variant,
        "connections": 16,
        "repetition": repetition,
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "cpu_ms": cpu,
        "pg_cpu_ms": 0.5,
        "xacts": 6.0,
        "requests": 100,
        "failures": 0,
        "peak_rss_mb": 100.0 + repetition,
        "rss_mb": 90.0 - repetition,
    }


def test_medians_over_repetitions_and_the_ratio_to_raw() -> None:
    windows = [
        *(_window("vermilion", rps, 20.0, i) for i, rps in enumerate([40.0, 50.0, 45.0])),
        *(_window("raw", rps, 2.0, i) for i, rps in enumerate([300.0, 200.0, 250.0])),
    ]

    ours, raw = medians(windows)

    assert (ours["rps"], raw["rps"]) == (45.0, 250.0)
    assert ours["rps_of_raw"] == pytest.approx(0.18)
    assert ours["cpu_times_raw"] == pytest.approx(10.0)
    assert (ours["requests"], ours["peak_rss_mb"], ours["rss_mb"]) == (300, 102.0, 90.0)


class _Answers(BaseHTTPRequestHandler):
    """GraphQL-like answers: an error for a body containing "bad", or containing "auth" but sent without
    `Authorization: Bearer t0k`; a mutation payload without errors else."""

    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        unsigned = b"auth" in body and self.headers.get("Authorization") != "Bearer t0k"
        if b"bad" in body or unsigned:
            answer = b'{"data":null,"errors":[{"message":"refused"}]}'
        else:
            answer = b'{"data":{"cartLinesAdd":{"cart":{"id":"x"},"errors":[]}}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # wrk drops its connections mid-request when its time is up


@pytest.fixture
def answering_server() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/graphql"
    finally:
        server.shutdown()
        server.server_close()


def test_the_wrk_script_counts_answers_with_errors(answering_server: str, tmp_path: Path) -> None:
    bodies = tmp_path / "bodies.jsonl"
    lines = [request_line(b'{"query":"auth"}', "t0k"), request_line(b'{"query":"bad"}', None)]
    bodies.write_bytes(b"\n".join(lines) + b"\n")

    result = asyncio.run(run_wrk(answering_server, bodies, connections=1, seconds=1))

    # One connection takes the two lines in turn, the first with its token: every other answer is an
    # error, and only those count.
    assert result.requests > 0
    assert abs(2 * result.errors_body - result.requests) <= 1
    assert (result.non200, result.socket_errors, result.timeouts) == (0, 0, 0)


def test_a_profile_is_shared_out_by_area_leaf_and_stack() -> None:
    from bench.http.profile import ROOT, summarise

    site = f"{ROOT}/.venv/lib/python3.11/site-packages"
    raw = "\n".join(
        [
            f"run ({site}/uvicorn/server.py:10);execute ({site}/graphql/execution/executor.py:5);"
            f"_answer ({ROOT}/schema/completion.py:235) 6",
            f"run ({site}/uvicorn/server.py:10);execute ({site}/graphql/execution/executor.py:5);"
            f"fetch ({site}/asyncpg/connection.py:9) 3",
            f"run ({site}/uvicorn/server.py:10);run (/usr/lib/python3.11/asyncio/runners.py:118) 1",
            "a line py-spy never writes",
        ]
    )
    found = summarise(raw)
    assert found["samples"] == 10
    assert dict(found["areas"]) == {
        "Vermilion: execution and completion (schema/execution.py, completion.py)": 60.0,
        "asyncpg (driver, records)": 30.0,
        "asyncio and uvloop (the event loop, waiting for sockets included)": 10.0,
    }
    assert found["self"][0] == ("_answer (schema/completion.py)", 60.0)
    inclusive = dict(found["inclusive"])
    assert inclusive["execute (graphql/execution/executor.py)"] == 90.0
    assert inclusive["_answer (schema/completion.py)"] == 60.0
    assert "run (uvicorn/server.py)" not in inclusive  # the server's frames, on every sample, left out
    assert summarise("")["samples"] == 0 and summarise("")["areas"] == []
