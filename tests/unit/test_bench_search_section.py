"""The order search section of bench/RESULTS.md, measured alone, replaces its own section only."""

from __future__ import annotations

from omniroute.bench.kit.order_search import with_search_section

REPORT = "# Omniroute benchmark\n\n## 8. Release waves\n\nwaves\n"
NEW = "## 9. Order search (`GET /v1/orders`) over 10 orders\n\nnew figures\n"


def test_a_report_without_the_section_gets_it_at_the_end() -> None:
    assert with_search_section(REPORT, NEW) == REPORT + "\n" + NEW


def test_the_section_is_replaced_and_what_follows_it_kept() -> None:
    old = REPORT + "\n## 9. Order search (`GET /v1/orders`) over 5 orders\n\nold figures\n\n## 10. Later\n\nlater\n"

    replaced = with_search_section(old, NEW)

    assert "old figures" not in replaced and "new figures" in replaced
    assert replaced.startswith(REPORT) and replaced.endswith("## 10. Later\n\nlater\n")
    assert with_search_section(replaced, NEW) == replaced


def test_no_report_yet_is_the_section_alone() -> None:
    assert with_search_section("", NEW) == NEW
