"""Nearest-node sourcing on hand-checkable networks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from models.address import GeoPoint
from models.shipment import ShipmentLine
from sourcing.geo import haversine_km, lookup_postal_code
from sourcing.nearest import Candidate, nearest_node, plan_nearest

CHICAGO = GeoPoint(latitude=41.88, longitude=-87.63)
NEWARK = GeoPoint(latitude=40.73, longitude=-74.17)
LA = GeoPoint(latitude=34.05, longitude=-118.24)


def test_distances_are_great_circle_kilometres() -> None:
    assert 1100 < haversine_km(CHICAGO, NEWARK) < 1200
    assert haversine_km(LA, LA) == 0


def test_a_us_zip_code_is_located_and_an_unknown_one_is_not() -> None:
    place = lookup_postal_code("60601")
    assert place is not None and place.city == "Chicago" and place.region == "IL"
    assert lookup_postal_code("00000") is None
    assert lookup_postal_code("ABCDE") is None


def test_each_line_goes_to_the_nearest_node_that_can_fill_it() -> None:
    plan = plan_nearest(
        [ShipmentLine(line_no=1, sku="A", quantity=2)], CHICAGO,
        [Candidate(node_id="nj", point=NEWARK, atp={"A": 5}), Candidate(node_id="la", point=LA, atp={"A": 5}),
         Candidate(node_id="near-but-short", point=CHICAGO, atp={"A": 1})],
    )
    assert [(s.node_id, s.lines[0].quantity) for s in plan.shipments] == [("nj", 2)]
    assert not plan.unfillable and "nearest node with enough stock" in plan.explanation[0]


def test_a_line_no_node_can_fill_alone_is_split_nearest_first_and_the_rest_is_unfillable() -> None:
    plan = plan_nearest(
        [ShipmentLine(line_no=1, sku="A", quantity=10)], CHICAGO,
        [Candidate(node_id="nj", point=NEWARK, atp={"A": 3}), Candidate(node_id="la", point=LA, atp={"A": 4})],
    )
    assert [(s.node_id, s.lines[0].quantity) for s in plan.shipments] == [("nj", 3), ("la", 4)]
    [short] = plan.unfillable
    assert (short.line_no, short.quantity) == (1, 3) and "no stock" in short.reason


def test_without_a_destination_nothing_is_planned() -> None:
    plan = plan_nearest([ShipmentLine(line_no=1, sku="A", quantity=1)], None,
                        [Candidate(node_id="nj", point=NEWARK, atp={"A": 3})])
    assert plan.shipments == [] and plan.unfillable[0].reason.startswith("the ship-to address")


def test_the_nearest_node_breaks_ties_by_id() -> None:
    assert nearest_node(CHICAGO, [("b", NEWARK), ("a", NEWARK), ("c", LA)]) == "a"
    assert nearest_node(CHICAGO, []) is None


@settings(max_examples=200, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=5),
    stock=st.lists(st.lists(st.integers(min_value=0, max_value=9), min_size=5, max_size=5), min_size=1, max_size=4),
)
def test_a_plan_never_assigns_more_than_atp_and_accounts_for_every_unit(quantities: list[int],
                                                                         stock: list[list[int]]) -> None:
    skus = [f"S{i}" for i in range(len(quantities))]
    points = [NEWARK, LA, CHICAGO, GeoPoint(latitude=30.0, longitude=-95.0)]
    candidates = [Candidate(node_id=f"n{i}", point=points[i], atp=dict(zip(skus, row, strict=False)))
                  for i, row in enumerate(stock)]
    lines = [ShipmentLine(line_no=i + 1, sku=sku, quantity=q) for i, (sku, q) in enumerate(zip(skus, quantities,
                                                                                              strict=True))]

    plan = plan_nearest(lines, CHICAGO, candidates)

    for candidate in candidates:
        for sku in skus:
            taken = sum(line.quantity for s in plan.shipments if s.node_id == candidate.node_id
                        for line in s.lines if line.sku == sku)
            assert taken <= candidate.atp.get(sku, 0)
    for line in lines:
        planned = sum(pl.quantity for s in plan.shipments for pl in s.lines if pl.line_no == line.line_no)
        unfilled = sum(u.quantity for u in plan.unfillable if u.line_no == line.line_no)
        assert planned + unfilled == line.quantity
