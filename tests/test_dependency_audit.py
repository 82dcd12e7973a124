"""`make audit` fails on a known vulnerability in our pins unless it is accepted with a reason.

The reports below are in pip-audit's JSON format (``--format=json --aliases=on``);
no test here reaches the network.
"""

from datetime import date

import pytest

from ruilkring import dependency_audit
from ruilkring.dependency_audit import (
    AuditError,
    accept_list_parse,
    audit_report_judge,
    audit_verdict_report,
)

DJANGO_ADVISORY = {
    "id": "PYSEC-2026-101",
    "fix_versions": ["5.2.20", "6.0.4"],
    "aliases": ["GHSA-abcd-efgh-ijkl", "CVE-2026-4242"],
}
REPORT_WITH_DJANGO_ADVISORY = {
    "dependencies": [
        {"name": "django", "version": "5.2.19", "vulns": [DJANGO_ADVISORY]},
        {"name": "pillow", "version": "12.1.1", "vulns": []},
        {"name": "requests", "version": "2.34.2", "vulns": []},
    ],
    "fixes": [],
}
CLEAN_REPORT = {
    "dependencies": [
        {"name": "django", "version": "5.2.20", "vulns": []},
        {"name": "pillow", "version": "12.1.1", "vulns": []},
    ],
    "fixes": [],
}
ACCEPTED_DJANGO = (
    "GHSA-abcd-efgh-ijkl | Django | Only the Oracle backend is affected; we run PostgreSQL."
    " | 2026-11-30\n"
)


def _skipped(name: str, version: str) -> dict:
    return {
        "name": name,
        "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} ({version})",
    }


def test_accept_list_reads_entries_and_skips_comments_and_blank_lines():
    text = (
        "# Known vulnerabilities we accept.\n"
        "\n"
        "   # An indented comment.\n"
        "PYSEC-2026-7 | Pillow | Only the FITS decoder; we never open FITS files. | 2026-11-02\n"
        "   \n"
    )

    [entry] = accept_list_parse(text=text)

    assert entry.vulnerability_id == "PYSEC-2026-7"
    assert entry.package == "pillow"
    assert entry.reason == "Only the FITS decoder; we never open FITS files."
    assert entry.accepted_on == date(2026, 11, 2)
    assert entry.line == 4


def test_an_empty_accept_list_accepts_nothing():
    assert accept_list_parse(text="# nothing accepted\n") == []


def test_an_entry_with_an_empty_reason_is_refused():
    with pytest.raises(AuditError, match=r"line 1: GHSA-abcd-efgh-ijkl has no reason"):
        accept_list_parse(text="GHSA-abcd-efgh-ijkl | django |   | 2026-11-30\n")


def test_an_entry_that_leaves_the_reason_out_is_refused():
    with pytest.raises(AuditError, match=r"line 2: expected `ID \| package \| reason"):
        accept_list_parse(text="# comment\nGHSA-abcd-efgh-ijkl | django | 2026-11-30\n")


def test_an_entry_without_a_valid_date_is_refused():
    with pytest.raises(AuditError, match=r"`30-11-2026` is not a date"):
        accept_list_parse(text="GHSA-abcd-efgh-ijkl | django | Not reachable. | 30-11-2026\n")


def test_the_same_vulnerability_accepted_twice_for_one_package_is_refused():
    with pytest.raises(
        AuditError, match=r"line 2: GHSA-abcd-efgh-ijkl for Django is accepted twice"
    ):
        accept_list_parse(text=ACCEPTED_DJANGO + ACCEPTED_DJANGO)


def test_every_bad_line_is_named_at_once():
    text = "A |  |  | 2026-11-30\nB | django |  | 2026-11-30\n"

    with pytest.raises(AuditError) as raised:
        accept_list_parse(text=text)

    assert "line 1:" in str(raised.value)
    assert "line 2:" in str(raised.value)


def test_the_repository_accept_list_is_valid():
    accept_list_parse(text=dependency_audit.ACCEPT_LIST.read_text(encoding="utf-8"))


def test_a_clean_report_passes_with_a_one_line_summary_of_the_packages_audited():
    verdict = audit_report_judge(report=CLEAN_REPORT, accepted=[])

    text, passed = audit_verdict_report(verdict=verdict, require_service=False)

    assert passed
    assert text == "Dependency audit: 2 pinned packages, no known vulnerabilities."


def test_a_finding_that_is_not_accepted_fails_and_says_how_to_fix_or_accept_it():
    verdict = audit_report_judge(report=REPORT_WITH_DJANGO_ADVISORY, accepted=[])

    text, passed = audit_verdict_report(verdict=verdict, require_service=False)

    assert not passed
    assert [finding.vulnerability_id for finding in verdict.refused] == ["PYSEC-2026-101"]
    assert "1 known vulnerability not accepted" in text
    assert (
        "django 5.2.19: PYSEC-2026-101 (CVE-2026-4242, GHSA-abcd-efgh-ijkl), fixed in 5.2.20, 6.0.4"
    ) in text
    assert "Upgrade the pin" in text
    assert "PYSEC-2026-101 | django | <why we accept it> |" in text


def test_a_finding_without_a_fixed_version_says_so():
    advisory = {"id": "GHSA-zzzz-zzzz-zzzz", "fix_versions": [], "aliases": []}
    report = {"dependencies": [{"name": "pillow", "version": "12.1.1", "vulns": [advisory]}]}

    text, passed = audit_verdict_report(
        verdict=audit_report_judge(report=report, accepted=[]), require_service=False
    )

    assert not passed
    assert "pillow 12.1.1: GHSA-zzzz-zzzz-zzzz, no fixed version yet" in text


def test_a_finding_accepted_by_one_of_its_aliases_passes_and_shows_the_reason():
    accepted = accept_list_parse(text=ACCEPTED_DJANGO)

    verdict = audit_report_judge(report=REPORT_WITH_DJANGO_ADVISORY, accepted=accepted)
    text, passed = audit_verdict_report(verdict=verdict, require_service=False)

    assert passed
    assert verdict.refused == ()
    assert "Only the Oracle backend is affected" in text
    assert text.endswith(
        "Dependency audit: 3 pinned packages, no known vulnerabilities other than the 1 accepted."
    )


def test_an_accepted_id_for_another_package_does_not_accept_the_finding():
    accepted = accept_list_parse(text="GHSA-abcd-efgh-ijkl | pillow | Not ours. | 2026-11-30\n")

    verdict = audit_report_judge(report=REPORT_WITH_DJANGO_ADVISORY, accepted=accepted)

    assert not verdict.passed
    assert [finding.package for finding in verdict.refused] == ["django"]


def test_an_accepted_entry_that_matches_no_finding_is_reported_but_does_not_fail():
    accepted = accept_list_parse(text=ACCEPTED_DJANGO)

    verdict = audit_report_judge(report=CLEAN_REPORT, accepted=accepted)
    text, passed = audit_verdict_report(verdict=verdict, require_service=False)

    assert passed
    assert verdict.accepted_unused == tuple(accepted)
    assert (
        "accepted-vulnerabilities.txt line 1: GHSA-abcd-efgh-ijkl (django) matches no finding "
        "any more; remove the line."
    ) in text


def test_a_package_left_unaudited_among_audited_ones_fails():
    report = {
        "dependencies": [*CLEAN_REPORT["dependencies"], _skipped("ruff", "0.17.6")],
        "fixes": [],
    }

    text, passed = audit_verdict_report(
        verdict=audit_report_judge(report=report, accepted=[]), require_service=False
    )

    assert not passed
    assert "were not audited: ruff" in text


def test_a_run_where_pypi_answered_for_no_package_says_nothing_was_audited():
    report = {"dependencies": [_skipped("django", "5.2.19"), _skipped("pillow", "12.1.1")]}
    accepted = accept_list_parse(text=ACCEPTED_DJANGO)
    verdict = audit_report_judge(report=report, accepted=accepted)

    text, passed = audit_verdict_report(verdict=verdict, require_service=False)
    _, passed_when_required = audit_verdict_report(verdict=verdict, require_service=True)

    assert passed
    assert not passed_when_required
    assert text.startswith("Dependency audit NOT DONE")
    assert "no known vulnerabilities" not in text
    assert "matches no finding" not in text


@pytest.fixture
def accept_list(tmp_path, monkeypatch):
    path = tmp_path / "accepted-vulnerabilities.txt"
    monkeypatch.setattr(dependency_audit, "ACCEPT_LIST", path)
    return path


def test_the_command_fails_on_an_accepted_entry_without_a_reason(accept_list, monkeypatch, capsys):
    accept_list.write_text("GHSA-abcd-efgh-ijkl | django |  | 2026-11-30\n", encoding="utf-8")
    monkeypatch.setattr(dependency_audit, "pip_audit_run", lambda **_: CLEAN_REPORT)

    assert dependency_audit.main([]) == 1
    assert "GHSA-abcd-efgh-ijkl has no reason" in capsys.readouterr().err


def test_the_command_fails_on_a_finding_and_passes_once_it_is_accepted(
    accept_list, monkeypatch, capsys
):
    monkeypatch.setattr(dependency_audit, "pip_audit_run", lambda **_: REPORT_WITH_DJANGO_ADVISORY)
    accept_list.write_text("# nothing accepted yet\n", encoding="utf-8")

    assert dependency_audit.main([]) == 1
    assert "PYSEC-2026-101" in capsys.readouterr().err

    accept_list.write_text(ACCEPTED_DJANGO, encoding="utf-8")

    assert dependency_audit.main([]) == 0
    assert "other than the 1 accepted" in capsys.readouterr().out
