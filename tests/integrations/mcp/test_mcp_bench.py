"""``toolrouter bench mcp`` at toy size: both paths run and the targets' table is printed."""

from __future__ import annotations

import re

import pytest

from toolrouter.bench import available_suites


@pytest.mark.timeout(120)
def test_the_benchmark_runs_at_toy_size(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench import mcp as bench_mcp

    assert "mcp" in available_suites()
    # --quick's 150 calls a row: with fewer, a server's CPU time (counted in clock ticks) can read 0
    bench_mcp.main(["--quick", "--upstreams", "2", "--concurrency", "2"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if re.match(r"\| (direct|gateway)", line)]
    assert [r.split("|")[1].strip() for r in rows] == ["direct, upstream 0", "direct, upstream 1", "gateway, 2 upstreams"]
    for row in rows:
        p50, p99, rate, cpu = (float(c) for c in row.split("|")[3:7])
        assert 0 < p50 <= p99 and rate > 0 and cpu > 0  # CPU per call of the server called
    gateway_upstreams_cpu = float(rows[-1].split("|")[7])
    assert gateway_upstreams_cpu > 0 and all(r.split("|")[7].strip() == "" for r in rows[:-1])
    for row in rows:  # the client's CPU per call, and the sum of every process's
        cells = row.split("|")
        server, upstreams, client, total = float(cells[6]), float(cells[7].strip() or 0), float(cells[8]), float(cells[9])
        assert client > 0 and total == pytest.approx(server + upstreams + client, abs=0.003)  # figures given to 3 decimals
    assert "| CPU per call of all processes, direct / through the gateway, 2 caller(s) | (for information) |" in out
    assert "| p50 through the gateway / direct, 2 caller(s) | <= 2.5 |" in out
    assert "n/a at --quick size" in out


@pytest.mark.timeout(120)
def test_one_callers_throughput_is_reported_for_information_only(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench import mcp as bench_mcp

    bench_mcp.main(["--calls", "20", "--warmup", "2", "--upstreams", "1", "--concurrency", "1,2"])
    out = capsys.readouterr().out
    one = next(line for line in out.splitlines() if line.startswith("| calls/s through the gateway / slowest upstream, 1 caller"))
    two = next(line for line in out.splitlines() if line.startswith("| calls/s through the gateway / slowest upstream, 2 caller"))
    assert one.rstrip(" |").endswith(bench_mcp.ONE_CALLER)
    assert two.rstrip(" |").split("|")[-1].strip() in ("yes", "no")


def test_bad_options_are_refused() -> None:
    from toolrouter.bench import mcp as bench_mcp

    with pytest.raises(SystemExit):
        bench_mcp.main(["--concurrency", "0"])
    with pytest.raises(SystemExit):
        bench_mcp.main(["--concurrency", "two"])
