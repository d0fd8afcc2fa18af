"""How the network's second-opinion rule is chosen from the tuning grid (``training``)."""

from __future__ import annotations

from training.tune_net_opinion import choose
from voicecoach.speech.net_opinion import NetOpinionTuning


def _tally(right: int, wrong: int = 2, alarms: int = 6) -> dict[str, float]:
    return {"right": right, "wrong": wrong, "alarms": alarms}


ALONE = _tally(786)


def test_the_rule_that_hears_most_without_more_false_alarms_or_wrong_commands_wins() -> None:
    table = [
        (NetOpinionTuning(-20.0, -8.0, 0.8), _tally(838, alarms=32)),
        (NetOpinionTuning(-12.0, -4.5, 0.95), _tally(819, alarms=7)),
        (NetOpinionTuning(-12.0, -4.5, 0.9), _tally(830, wrong=3)),
        (NetOpinionTuning(-12.0, -4.5, 0.98), _tally(816)),
        (NetOpinionTuning(-6.0, -4.0, 0.98), _tally(800)),
    ]
    assert choose(table, ALONE) == NetOpinionTuning(-12.0, -4.5, 0.98)


def test_among_equals_the_highest_probability_and_the_narrowest_band_win() -> None:
    table = [
        (NetOpinionTuning(-20.0, -6.0, 0.98), _tally(816)),
        (NetOpinionTuning(-12.0, -4.5, 0.98), _tally(816)),
        (NetOpinionTuning(-12.0, -4.5, 0.95), _tally(816)),
        (NetOpinionTuning(-12.0, -6.0, 0.98), _tally(816)),
    ]
    assert choose(table, ALONE) == NetOpinionTuning(-12.0, -4.5, 0.98)


def test_no_rule_is_chosen_when_every_one_adds_false_alarms() -> None:
    table = [(NetOpinionTuning(-12.0, -4.5, 0.98), _tally(816, alarms=7))]
    assert choose(table, ALONE) is None
