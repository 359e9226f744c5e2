"""The benchmarks' interleaved measurement: wrk's output with the latency quantiles
catalogue.lua prints, and several turns of one scenario pooled into one figure
(bench/catalogue.py), without a benchmark."""

import pytest

from bench.catalogue import WrkResult, parse_wrk, pooled

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000
  2 threads and 16 connections
  Latency Distribution
     50%   20.10ms
     75%   25.00ms
     90%   30.00ms
     99%   50.00ms
  1000 requests in 5.00s, 1.00MB read
Requests/sec:    200.00
BENCH non2xx=0 first_status=0
BENCH_QUANTILES {quantiles}
"""


def _run(requests: int, seconds: float, quantiles_ms: list[float]) -> WrkResult:
    return WrkResult(requests=requests, seconds=seconds, rps=requests / seconds,
                     p50_ms=0, p75_ms=0, p90_ms=0, p99_ms=0, non2xx=0,
                     quantiles_ms=quantiles_ms)


def test_the_quantiles_are_read_in_milliseconds():
    quantiles = " ".join(str(1000 * k) for k in range(1, 1001))  # k ms at k/10 %
    parsed = parse_wrk(WRK_OUTPUT.format(quantiles=quantiles))
    assert len(parsed.quantiles_ms) == 1000
    assert parsed.quantiles_ms[0] == 1.0 and parsed.quantiles_ms[-1] == 1000.0
    assert parsed.requests == 1000 and parsed.p99_ms == 50.0


def test_turns_are_pooled_by_their_requests():
    fast = _run(3000, 5.0, [10.0] * 1000)  # every request took 10 ms
    slow = _run(1000, 5.0, [10.0] * 900 + [100.0] * 100)  # its slowest tenth 100 ms
    both = pooled([fast, slow])
    assert both.requests == 4000 and both.seconds == 10.0 and both.rps == 400.0
    # 100 of the 4,000 requests (2.5 %) took 100 ms: the p99 is one of them, the p90 not
    assert both.p99_ms == 100.0 and both.p90_ms == 10.0 and both.p50_ms == 10.0


def test_the_order_of_the_turns_does_not_matter():
    first = _run(500, 5.0, [float(k) for k in range(1, 1001)])
    second = _run(1500, 5.0, [float(2 * k) for k in range(1, 1001)])
    one, other = pooled([first, second]), pooled([second, first])
    figures = ("requests", "seconds", "rps", "p50_ms", "p75_ms", "p90_ms", "p99_ms")
    assert [getattr(one, f) for f in figures] == [getattr(other, f) for f in figures]
    # a quarter of the requests are the first turn's (1..1000 ms), three quarters the
    # second's (2..2000 ms): the pooled median lies between the two medians
    assert 500.0 < one.p50_ms < 1000.0


@pytest.mark.parametrize("p99", [40.0, 75.0])
def test_without_quantiles_the_worst_turn_s_percentile_stands(p99):
    runs = [WrkResult(requests=100, seconds=1.0, rps=100.0, p50_ms=5, p75_ms=6, p90_ms=7,
                      p99_ms=p, non2xx=0) for p in (p99, 30.0)]
    assert pooled(runs).p99_ms == p99


def test_the_paced_latency_is_told_beside_the_p99_target():
    from bench.catalogue import paced_note
    assert paced_note(None, "quote") == ""
    paced = {"share": 0.5, "quote": {"rps": 95.4, "p99_ms": 46.04}}
    assert paced_note(paced, "quote") == "; at 95 req/s, below saturation: 46.0 ms"
