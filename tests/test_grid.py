"""The sweep grammar: grid.parse_floats / grid.parse_ints, exact values and exact errors."""

from __future__ import annotations

import dataclasses
import itertools
import math
import pickle

import pytest

from toynn_cli.config import grid
from toynn_cli.config.grid import GrammarError, parse_floats, parse_ints
from toynn_cli.core import network
from toynn_cli.core.network import NetworkSpec

# --- parse_floats: values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("0.5", (0.5,)),
        ("1", (1.0,)),
        ("0.1,1,10", (0.1, 1.0, 10.0)),
        (" 0.1 , 1 ,10 ", (0.1, 1.0, 10.0)),
        ("1e-3", (0.001,)),
        ("1E2", (100.0,)),
        ("+2.5", (2.5,)),
        ("-1", (-1.0,)),  # the grammar reads any number; alphas > 0 is the config's check
        ("0", (0.0,)),
        # decades: exactly the floats of the decimal strings a person would type
        ("0.001..1000", (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)),
        ("0.3..300", (0.3, 3.0, 30.0, 300.0)),
        ("0.03..3", (0.03, 0.3, 3.0)),
        ("7..7", (7.0,)),
        ("1e-3..1e3", (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)),
        ("0.5,1..100", (0.5, 1.0, 10.0, 100.0)),
        # N log-spaced points, both ends exact, inner points to 12 significant digits
        ("0.01..10:7", (0.01, 0.0316227766017, 0.1, 0.316227766017, 1.0, 3.16227766017, 10.0)),
        ("1..100:3", (1.0, 10.0, 100.0)),
        ("0.001..1000:2", (0.001, 1000.0)),
        ("2..2:1", (2.0,)),
        ("1..10:2,100", (1.0, 10.0, 100.0)),
    ],
)
def test_parse_floats_values(text: str, values: tuple[float, ...]) -> None:
    assert parse_floats(text) == values
    assert all(type(v) is float for v in parse_floats(text))


def test_decades_are_the_typed_decimals_not_accumulated_products() -> None:
    values = parse_floats("0.001..1000")
    assert [repr(v) for v in values] == [
        "0.001",
        "0.01",
        "0.1",
        "1.0",
        "10.0",
        "100.0",
        "1000.0",
    ]
    assert values == tuple(float(s) for s in ["0.001", "0.01", "0.1", "1", "10", "100", "1000"])


def test_decades_avoid_float_multiplication_noise() -> None:
    assert 0.07 * 10 != 0.7  # 0.7000000000000001: what multiplying floats would give
    assert parse_floats("0.07..70") == (0.07, 0.7, 7.0, 70.0)
    assert repr(parse_floats("0.07..70")[1]) == "0.7"


def test_decades_over_the_whole_float_range_stay_exact() -> None:
    values = parse_floats("1e-300..1e300")
    assert len(values) == 601
    assert values == tuple(float(f"1e{k}") for k in range(-300, 301))


def test_log_points_are_increasing_and_log_spaced() -> None:
    values = parse_floats("0.001..1000:13")
    assert len(values) == 13
    assert values[0] == 0.001 and values[-1] == 1000.0
    steps = [math.log10(b) - math.log10(a) for a, b in itertools.pairwise(values)]
    assert all(step == pytest.approx(0.5, abs=1e-9) for step in steps)


def test_max_values_is_allowed_and_one_more_is_not() -> None:
    assert len(parse_floats(f"1..2:{grid.MAX_VALUES}")) == grid.MAX_VALUES
    with pytest.raises(GrammarError) as info:
        parse_floats(f"1..2:{grid.MAX_VALUES + 1}")
    assert str(info.value) == f"expected at most 100000 values, not {grid.MAX_VALUES + 1}"


# --- parse_floats: errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a number, a comma list or a range A..B"),
        ("   ", "expected a number, a comma list or a range A..B"),
        ("abc", "expected a number, a comma list or a range A..B"),
        ("nan", "expected a finite number, a comma list or a range A..B"),
        ("inf", "expected a finite number, a comma list or a range A..B"),
        ("-Infinity", "expected a finite number, a comma list or a range A..B"),
        ("1,x", "expected a number, not 'x'"),
        ("1,nan", "expected a finite number, not 'nan'"),
        ("1,1e400", "expected a number a float can hold, not '1e400' (above 1.8e308)"),
        ("1..1e400", "expected a number a float can hold, not '1e400' (above 1.8e308)"),
        (
            "2,1..1e400",
            "expected a number a float can hold, not '1e400' (above 1.8e308) in '1..1e400'",
        ),
        ("1,,2", "expected a value between every two commas"),
        (",1", "expected a value between every two commas"),
        ("1,", "expected a value between every two commas"),
        ("1,1", "expected each value once; 1 is repeated"),
        ("0.1,1e-1", "expected each value once; 0.1 is repeated"),
        ("1,1..100", "expected each value once; 1 is repeated"),
        ("1e400", "expected a number a float can hold, not '1e400' (above 1.8e308)"),
        ("1e-400", "expected a number a float can hold, not '1e-400' (it rounds to 0)"),
        # the four
        ("0..", "expected a range A..B with a number on both sides"),
        ("1..0.1", "expected a range A..B with A <= B"),
        ("a..b", "expected a number before '..', not 'a'"),
        ("1..10:0", "expected N >= 2 points in A..B:N, not 0"),
        # more ranges
        ("..1", "expected a range A..B with a number on both sides"),
        ("..", "expected a range A..B with a number on both sides"),
        ("1..b", "expected a number after '..', not 'b'"),
        ("1..inf", "expected a finite number after '..', not 'inf'"),
        ("1..2..3", "expected a number after '..', not '2..3'"),
        ("0..1", "expected A > 0 in the log range A..B, not 0"),
        ("-1..1", "expected A > 0 in the log range A..B, not -1"),
        (
            "1..3",
            "expected B = A times a power of ten in A..B (or A..B:N for N log-spaced points)",
        ),
        (
            "0.001..999",
            "expected B = A times a power of ten in A..B (or A..B:N for N log-spaced points)",
        ),
        ("1..10:", "expected a point count N after ':' in A..B:N"),
        ("1..10:x", "expected a whole number of points after ':', not 'x'"),
        ("1..10:2.5", "expected a whole number of points after ':', not '2.5'"),
        ("1..10:2:3", "expected a whole number of points after ':', not '2:3'"),
        ("1..10:1", "expected N >= 2 points in A..B:N, not 1"),
        ("1..10:-3", "expected N >= 2 points in A..B:N, not -3"),
        ("1..1:3", "expected N = 1 for a range A..A:N, not 3"),
        (
            "1..1e10:" + "9" * 40,
            "expected a whole number of at most 30 digits, not '999999999999...'",
        ),
        ("0.5,1..0.1", "expected a range A..B with A <= B in '1..0.1'"),
        ("2,a..b", "expected a number before '..', not 'a' in 'a..b'"),
        ("2,0..1", "expected A > 0 in the log range A..B, not 0 in '0..1'"),
        ("2,1..10:0", "expected N >= 2 points in A..B:N, not 0 in '1..10:0'"),
        ("2,0..", "expected a range A..B with a number on both sides in '0..'"),
    ],
)
def test_parse_floats_errors(text: str, message: str) -> None:
    with pytest.raises(GrammarError) as info:
        parse_floats(text)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


# --- parse_ints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("4", (4,)),
        ("0", (0,)),
        ("2,4,8", (2, 4, 8)),
        ("1..5", (1, 2, 3, 4, 5)),
        ("3..3", (3,)),
        ("0,2..4,10", (0, 2, 3, 4, 10)),
        (" 1 .. 3 ", (1, 2, 3)),
        ("+7", (7,)),
        ("-2..1", (-2, -1, 0, 1)),  # sign checks belong to the config (hidden >= 0, seeds >= 0)
    ],
)
def test_parse_ints_values(text: str, values: tuple[int, ...]) -> None:
    assert parse_ints(text) == values
    assert all(type(v) is int for v in parse_ints(text))


def test_seed_range_0_to_999_is_inclusive() -> None:
    assert parse_ints("0..999") == tuple(range(1000))


def test_int_range_limit() -> None:
    assert len(parse_ints("1..100000")) == grid.MAX_VALUES
    with pytest.raises(GrammarError) as info:
        parse_ints("0..4294967295")
    assert str(info.value) == "expected at most 100000 values, not 4294967296"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a number, a comma list or a range A..B"),
        ("x", "expected a whole number, a comma list or a range A..B"),
        ("1.5", "expected a whole number, a comma list or a range A..B"),
        ("1e3", "expected a whole number, a comma list or a range A..B"),
        ("1,1.5", "expected a whole number, not '1.5'"),
        ("1,,2", "expected a value between every two commas"),
        ("1,2,1", "expected each value once; 1 is repeated"),
        ("1..3,2", "expected each value once; 2 is repeated"),
        ("0..", "expected a range A..B with a number on both sides"),
        ("5..1", "expected a range A..B with A <= B"),
        ("a..b", "expected a whole number before '..', not 'a'"),
        ("1..b", "expected a whole number after '..', not 'b'"),
        ("1..2.5", "expected a whole number after '..', not '2.5'"),
        ("1..10:3", "expected a whole-number range A..B (A..B:N is for alphas)"),
        ("1..10:0", "expected a whole-number range A..B (A..B:N is for alphas)"),
        ("9" * 31, "expected a whole number of at most 30 digits, not '999999999999...'"),
        ("4,5..1", "expected a range A..B with A <= B in '5..1'"),
    ],
)
def test_parse_ints_errors(text: str, message: str) -> None:
    with pytest.raises(GrammarError) as info:
        parse_ints(text)
    assert str(info.value) == message


# --- expand and show_number ---------------------------------------------------------------


def test_expand_order_is_hidden_then_alpha_then_seed() -> None:
    specs = grid.expand((2, 4), (0.1, 1.0), (1, 2))
    assert specs == [
        NetworkSpec(0.1, 2, 1),
        NetworkSpec(0.1, 2, 2),
        NetworkSpec(1.0, 2, 1),
        NetworkSpec(1.0, 2, 2),
        NetworkSpec(0.1, 4, 1),
        NetworkSpec(0.1, 4, 2),
        NetworkSpec(1.0, 4, 1),
        NetworkSpec(1.0, 4, 2),
    ]


@pytest.mark.parametrize(
    ("value", "text"), [(1.0, "1"), (0.1, "0.1"), (1e20, "1e+20"), (7, "7"), (-0.0, "0")]
)
def test_show_number(value: float, text: str) -> None:
    assert grid.show_number(value) == text


def test_a_grid_knows_its_runs_and_its_slices_theirs():
    specs = grid.expand([4, 8], [0.1, 1.0], range(3), architectures=({}, {"bias": True}))
    assert isinstance(specs, network.Grid) and len(specs) == 24
    assert specs.starts == (0, 6, 12, 18)
    assert specs[5:20].starts == (0, 1, 7, 13) and isinstance(specs[5:20], network.Grid)
    assert specs[6:6].starts == () and specs[6:7].starts == (0,)
    for a in range(len(specs) + 1):
        for b in range(a, len(specs) + 1):
            part, plain = specs[a:b], list(specs)[a:b]
            assert part == plain
            assert network.distinct(part) == network.distinct(plain)
            assert network.layout_keys(part) == network.layout_keys(plain)
    assert network.distinct(specs) == [specs[0], specs[6], specs[12], specs[18]]


def test_a_grid_is_not_changed_and_pickles_with_its_runs():
    specs = grid.expand([4], [0.1, 1.0], range(2), (*grid.PLAIN_SGD, ("adam", ())))
    for change in (
        lambda: specs.append(specs[0]),
        lambda: specs.__setitem__(0, specs[1]),
        lambda: specs.sort(key=lambda s: s.seed),
        lambda: specs.__iadd__(specs),
    ):
        with pytest.raises(TypeError, match=r"^a Grid of networks is not to be changed"):
            change()
    back = pickle.loads(pickle.dumps(specs))
    assert type(back) is network.Grid and back == specs and back.starts == specs.starts == (0, 4)


def test_a_grids_chunks_joined_again_are_the_grid():
    specs = grid.expand([4, 8], [0.1, 1.0], range(3))
    back = network.joined([specs[0:5], specs[5:7], specs[7:12]])
    assert type(back) is network.Grid and back == specs
    assert specs.starts == (0, 6) and back.starts == (0, 5, 6, 7)  # a run split where joined
    assert network.distinct(back) == network.distinct(specs) == [specs[0], specs[6]]
    assert network.layout_keys(back) == network.layout_keys(specs)
    plain = network.joined([specs[0:5], list(specs[5:12])])
    assert type(plain) is list and plain == specs
    assert network.as_list(specs) is specs and type(network.as_list(tuple(specs))) is list


def test_specs_made_slot_by_slot_are_those_replace_makes() -> None:
    template = NetworkSpec(
        0.0, (3, 2), 0, optimizer="adam", optimizer_params=(("betas", (0.8, 0.9)),),
        bias=True, activation="tanh", clip_norm=1.5, schedule="step",
        schedule_params=(("gamma", 0.5),), batch_norm=True,
    )  # fmt: skip
    made = network.with_alphas_and_seeds(template, [0.5, 1e-3], [7, 0, 3])
    expected = [
        dataclasses.replace(template, alpha=a, seed=s) for a in (0.5, 1e-3) for s in (7, 0, 3)
    ]
    assert made == expected and [hash(s) for s in made] == [hash(s) for s in expected]
    assert all(type(s) is NetworkSpec for s in made)
    assert [dataclasses.astuple(s) for s in made] == [dataclasses.astuple(s) for s in expected]
    assert pickle.loads(pickle.dumps(made)) == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        made[0].alpha = 2.0  # type: ignore[misc]
    assert network.with_alphas_and_seeds(template, [], [1]) == []
