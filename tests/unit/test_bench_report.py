"""The benchmark's pure parts: rates, the ratio, the RSS reading and the Markdown report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omniroute.bench.kit.report import (
    BenchResults,
    Machine,
    MemorySample,
    Throughput,
    parse_vmrss_kib,
    render_results,
    throughput_ratio,
)

MACHINE = Machine(cores=2, python="3.13.1", system="Linux x86_64", temporalio="1.35.0")


def _results(memory: MemorySample | None = None, note: str | None = None) -> BenchResults:
    return BenchResults(
        command="omniroute bench --out bench/RESULTS.md", date=datetime(2026, 11, 25, 3, 4, tzinfo=UTC),
        machine=MACHINE, quick=False,
        orders=Throughput("OrderWorkflow (1 shipment)", 300, 100.0),
        baseline=Throughput("trivial workflow (3 local activities)", 300, 12.0),
        memory=memory, memory_note=note, method=["Durations: server times."],
    )


def test_throughput_is_count_over_seconds() -> None:
    assert Throughput("x", 300, 120.0).per_second == pytest.approx(2.5)


def test_a_run_that_took_no_time_has_no_throughput() -> None:
    with pytest.raises(ValueError, match="x: the run must take some time"):
        _ = Throughput("x", 3, 0.0).per_second


def test_the_ratio_is_orders_per_second_over_trivial_per_second() -> None:
    orders = Throughput("orders", 300, 100.0)
    trivial = Throughput("trivial", 300, 12.0)

    assert throughput_ratio(orders, trivial) == pytest.approx(3.0 / 25.0)


def test_memory_per_open_order_is_the_growth_divided_by_the_orders() -> None:
    sample = MemorySample(open_orders=500, rss_before_kib=100_000, rss_after_kib=150_000)

    assert sample.per_order_kib == pytest.approx(100.0)


def test_vmrss_is_read_from_a_proc_status_text() -> None:
    status = "Name:\tpython\nVmPeak:\t  300000 kB\nVmRSS:\t  123456 kB\nThreads:\t9\n"

    assert parse_vmrss_kib(status) == 123456


def test_a_status_text_without_vmrss_is_refused() -> None:
    with pytest.raises(ValueError, match="no VmRSS"):
        parse_vmrss_kib("Name:\tzombie\n")


def test_the_report_names_command_date_machine_and_quotes_the_ratio() -> None:
    text = render_results(_results(MemorySample(open_orders=500, rss_before_kib=102_400, rss_after_kib=153_600)))

    assert "`omniroute bench --out bench/RESULTS.md`" in text
    assert "2026-11-25 03:04" in text
    assert "2 cores" in text and "Python 3.13.1" in text
    assert "| OrderWorkflow (1 shipment) | 300 | 100.0 s | 3.00 |" in text
    assert "| trivial workflow (3 local activities) | 300 | 12.0 s | 25.00 |" in text
    assert "0.12×" in text
    assert "| 500 | 100.0 MiB | 150.0 MiB | 102.4 KiB |" in text
    assert "- Durations: server times." in text


def test_the_report_says_why_memory_was_not_measured() -> None:
    text = render_results(_results(note="no worker pid"))

    assert "Not measured: no worker pid" in text
