"""The validation registries: fitted constants kept apart from held-out checks; `neuro validate`."""

from __future__ import annotations

import pytest

from devices.validation import ConfigError
from neuro import validate
from neuro.validate import CHECKS, FITTED, Check, Fitted, Outcome, Skip


@pytest.fixture
def scratch():
    """Registrations made in a test are removed afterwards."""
    validate.load_all()
    before_c, before_f = set(CHECKS.names()), set(FITTED.names())
    yield
    for name in set(CHECKS.names()) - before_c:
        CHECKS.unregister(name)
    for name in set(FITTED.names()) - before_f:
        FITTED.unregister(name)


def _check(name, figure_id, kind="held-out", model=1.0, measured=1.0, band=(0.5, 1.5)):
    return Check(name, "digital", "q", "W", measured, lambda: model, "src", figure_id, kind, band)


def test_held_out_check_on_a_fitted_figure_is_refused(scratch):
    validate.register_fitted(Fitted("test.k", 2.0, "W", "fig-a", "figure A (src)", "here"))
    with pytest.raises(ConfigError, match=r"uses 'fig-a', the figure that 'test.k' was fitted to"):
        validate.register_check(_check("test.held", "fig-a"))
    validate.register_check(_check("test.regression", "fig-a", kind="regression"))


def test_fitting_to_a_held_out_figure_is_refused(scratch):
    validate.register_check(_check("test.held2", "fig-b"))
    with pytest.raises(ConfigError, match=r"which the held-out check 'test.held2' uses"):
        validate.register_fitted(Fitted("test.k2", 2.0, "W", "fig-b", "figure B", "here"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "guess"}, r"Check.kind must be one of held-out, regression"),
        ({"band": (1.2, 1.5)}, r"Check.band must satisfy 0 < low <= 1 <= high"),
        ({"measured": -1.0}, r"Check.measured must be a finite number > 0; got -1.0"),
    ],
)
def test_bad_checks_are_refused(kwargs, message):
    base = dict(measured=1.0, kind="held-out", band=(0.5, 1.5))
    base.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        _check("x", "f", **base)


def test_outcome_ratio_and_band():
    c = _check("x", "f", measured=2.0, band=(0.5, 1.5))
    assert Outcome(c, 2.9, 2.0).ratio == pytest.approx(1.45)
    assert Outcome(c, 2.9, 2.0).passed is True
    assert Outcome(c, 3.1, 2.0).passed is False
    assert Outcome(c, 0.9, 2.0).passed is False
    assert Outcome(c, None, None, "tool missing").passed is None


def test_run_reports_skips(scratch):
    def missing():
        raise Skip("tool missing")

    validate.register_check(
        Check("test.skip", "digital", "q", "W", 1.0, missing, "src", "fig-s", "exact", (0.9, 1.1))
    )
    out = {o.check.name: o for o in validate.run(["digital"])}
    assert out["test.skip"].skipped == "tool missing"
    assert "skipped test.skip: tool missing" in validate.format_outcomes([out["test.skip"]])


def test_every_registered_check_names_a_source_and_a_kind():
    validate.load_all()
    assert len(CHECKS) > 0
    for _, c in CHECKS.items():
        assert c.source.strip() and c.kind in validate.KINDS and c.figure_id


def test_cli_exit_status_follows_the_bands(monkeypatch, capsys, tmp_path):
    from neuro.cli import main

    inside = Outcome(_check("test.in", "f1"), 1.2, 1.0)
    outside = Outcome(_check("test.out", "f2"), 3.0, 1.0)
    monkeypatch.setattr(validate, "run", lambda paradigms=None: [inside])
    assert main(["validate", "--json", str(tmp_path / "v.json")]) == 0
    assert '"passed": true' in (tmp_path / "v.json").read_text()
    monkeypatch.setattr(validate, "run", lambda paradigms=None: [inside, outside])
    assert main(["validate"]) == 1
    out = capsys.readouterr()
    assert "1 inside their band, 1 outside, 0 skipped" in out.out
    assert "OUTSIDE test.out" in out.err


#: Checks known to fall outside their band, each with its named missing mechanism (the
#: exit status of ``neuro validate`` stays 1 while any remains; see the issue notes).
KNOWN_OUTSIDE = {
    "spiking.loihi.kws-throughput": "host-chip spike I/O round trip per step (NxSDK, board "
    "link, x86 injection) is not modelled; no figure independent of the measurement",
}


@pytest.mark.slow
def test_neuro_validate_runs_every_check(capsys):
    """The real command over every registered check: held-out chips inside ±50 % except the
    documented gaps, exact and statistics checks inside their bands, exit 1 while a gap is
    open."""
    from neuro.cli import main

    status = main(["validate"])
    out = capsys.readouterr().out
    outcomes = validate.run()
    outside = {o.check.name for o in outcomes if o.passed is False}
    assert outside == set(KNOWN_OUTSIDE)
    assert status == (1 if outside else 0)
    held_out = {o.check.paradigm for o in outcomes if o.check.kind == "held-out" and o.passed}
    assert held_out == {"digital", "analog", "spiking"}
    for paradigm in ("digital", "analog", "spiking"):
        chips = {
            o.check.name.split(".")[1]
            for o in outcomes
            if o.check.paradigm == paradigm and o.check.kind == "held-out" and o.passed
        }
        assert len(chips) >= 2, (paradigm, chips)  # two measured chips no constant fits
    assert "fitted constant" in out and "npu.ab9.static_W" in out
