"""Audit the pinned dependencies for known vulnerabilities: ``make audit``.

pip-audit checks every pin in ``requirements.txt`` and ``requirements-dev.txt``
against PyPI's vulnerability feed. The pins are exact, so no resolver runs
(``--no-deps --disable-pip``): one request to PyPI per package.

A known vulnerability fails the run unless ``accepted-vulnerabilities.txt``
accepts it for that package, with a reason. pip-audit runs without
``--ignore-vuln`` and this module judges its whole report, so that an accepted
ID also matches a finding's aliases (a GHSA ID accepts the PYSEC finding it
names), and an accepted entry that no longer matches any finding is reported.

PyPI answers "not found" for every package when its per-release JSON is out of
reach (a proxy that lets the package index through but not that API), and
pip-audit then says "No known vulnerabilities found" and exits 0. That run
audited nothing: this module says so in its summary, and fails on it with
``--require-service``. One package left unanswered among answered ones always
fails the run.
"""

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT_FILES = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
ACCEPT_LIST = ROOT / "accepted-vulnerabilities.txt"
ACCEPT_LINE_FORMAT = "ID | package | reason | date accepted (YYYY-MM-DD)"


class AuditError(Exception):
    """The audit could not be judged: a bad accept-list, or pip-audit gave no report."""


@dataclass(frozen=True)
class AcceptedVulnerability:
    vulnerability_id: str
    package: str
    reason: str
    accepted_on: date
    line: int


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vulnerability_id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]

    def __str__(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fixed = (
            f"fixed in {', '.join(self.fix_versions)}"
            if self.fix_versions
            else "no fixed version yet"
        )
        return f"{self.package} {self.version}: {self.vulnerability_id}{aliases}, {fixed}"

    def is_accepted_by(self, entry: AcceptedVulnerability) -> bool:
        ids = {self.vulnerability_id.upper(), *(alias.upper() for alias in self.aliases)}
        return entry.package == self.package and entry.vulnerability_id.upper() in ids


@dataclass(frozen=True)
class AuditVerdict:
    packages: tuple[str, ...]
    unanswered: tuple[str, ...]
    refused: tuple[Finding, ...]
    accepted: tuple[tuple[Finding, AcceptedVulnerability], ...]
    accepted_unused: tuple[AcceptedVulnerability, ...]

    @property
    def service_unreachable(self) -> bool:
        """PyPI answered for none of the packages: nothing was audited."""
        return bool(self.packages) and len(self.unanswered) == len(self.packages)

    @property
    def passed(self) -> bool:
        """Every package was audited, and every finding is accepted."""
        return not self.refused and not self.unanswered


def accept_list_parse(*, text: str) -> list[AcceptedVulnerability]:
    """Read the accept-list: one ``ID | package | reason | date`` a line, ``#`` comments.

    Raises AuditError naming every bad line: a wrong number of fields, an empty
    ID, package or reason, a date that is not YYYY-MM-DD, or an ID accepted twice
    for one package.
    """
    entries: list[AcceptedVulnerability] = []
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split("|")]
        if len(fields) != 4:
            problems.append(f"line {number}: expected `{ACCEPT_LINE_FORMAT}`, found `{line}`")
            continue
        vulnerability_id, package, reason, accepted_on = fields
        if not vulnerability_id or not package:
            problems.append(f"line {number}: the ID and the package are required")
            continue
        if not reason:
            problems.append(
                f"line {number}: {vulnerability_id} has no reason; say why it does not "
                "affect us or why no fix applies"
            )
            continue
        try:
            day = date.fromisoformat(accepted_on)
        except ValueError:
            problems.append(f"line {number}: `{accepted_on}` is not a date like 2026-11-30")
            continue
        key = (vulnerability_id.upper(), canonicalize_name(package))
        if key in seen:
            problems.append(f"line {number}: {vulnerability_id} for {package} is accepted twice")
            continue
        seen.add(key)
        entries.append(
            AcceptedVulnerability(
                vulnerability_id=vulnerability_id,
                package=canonicalize_name(package),
                reason=reason,
                accepted_on=day,
                line=number,
            )
        )
    if problems:
        raise AuditError(f"{ACCEPT_LIST.name} has bad lines:\n  " + "\n  ".join(problems))
    return entries


def audit_report_judge(*, report: dict, accepted: Sequence[AcceptedVulnerability]) -> AuditVerdict:
    """Judge a pip-audit JSON report against the accept-list.

    A finding is accepted only by an entry for the same package whose ID is the
    finding's ID or one of its aliases; every other finding is refused.
    """
    packages: dict[str, None] = {}
    unanswered: dict[str, None] = {}
    findings: dict[tuple[str, str], Finding] = {}
    for dependency in report["dependencies"]:
        name = canonicalize_name(dependency["name"])
        packages[name] = None
        if "skip_reason" in dependency:
            unanswered[name] = None
            continue
        for vulnerability in dependency.get("vulns", []):
            finding = Finding(
                package=name,
                version=dependency["version"],
                vulnerability_id=vulnerability["id"],
                aliases=tuple(sorted(vulnerability.get("aliases", []))),
                fix_versions=tuple(vulnerability.get("fix_versions", [])),
            )
            findings[(name, finding.vulnerability_id)] = finding
    refused: list[Finding] = []
    matched: list[tuple[Finding, AcceptedVulnerability]] = []
    for finding in findings.values():
        entry = next((entry for entry in accepted if finding.is_accepted_by(entry)), None)
        if entry is None:
            refused.append(finding)
        else:
            matched.append((finding, entry))
    used = [entry for _, entry in matched]
    return AuditVerdict(
        packages=tuple(packages),
        unanswered=tuple(unanswered),
        refused=tuple(refused),
        accepted=tuple(matched),
        accepted_unused=tuple(entry for entry in accepted if entry not in used),
    )


def pip_audit_run(*, requirement_files: Sequence[Path]) -> dict:
    """Run pip-audit on exact pins and return its JSON report.

    Raises AuditError when pip-audit ends without a report (it could not reach
    PyPI at all, or could not read a requirement file).
    """
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--no-deps",
        "--disable-pip",
        "--format=json",
        "--aliases=on",
        "--desc=off",
        "--progress-spinner=off",
    ]
    for requirement_file in requirement_files:
        command += ["--requirement", str(requirement_file)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise AuditError(
            f"pip-audit ended with exit status {completed.returncode} and no report:\n"
            + completed.stderr.strip()
        ) from None


def audit_verdict_report(*, verdict: AuditVerdict, require_service: bool) -> tuple[str, bool]:
    """The text to print for a verdict, and whether the run passes."""
    lines: list[str] = []
    for finding, entry in verdict.accepted:
        lines.append(
            f"Accepted on {entry.accepted_on} ({ACCEPT_LIST.name} line {entry.line}): "
            f"{finding}. {entry.reason}"
        )
    if not verdict.service_unreachable:
        for entry in verdict.accepted_unused:
            lines.append(
                f"{ACCEPT_LIST.name} line {entry.line}: {entry.vulnerability_id} "
                f"({entry.package}) matches no finding any more; remove the line."
            )
    count = len(verdict.packages)
    if verdict.service_unreachable:
        lines.append(
            f"Dependency audit NOT DONE: PyPI answered 'not found' for all {count} pinned "
            "packages, so none was audited; its per-release JSON API is out of reach from here."
        )
        return "\n".join(lines), not require_service
    if verdict.unanswered:
        lines.append(
            "Dependency audit failed: PyPI has no record of these pins, so they were not "
            "audited: " + ", ".join(verdict.unanswered)
        )
    if verdict.refused:
        example = verdict.refused[0]
        lines.append(
            f"Dependency audit failed: {len(verdict.refused)} known "
            f"{'vulnerability' if len(verdict.refused) == 1 else 'vulnerabilities'}"
            " not accepted:"
        )
        lines += [f"  {finding}" for finding in verdict.refused]
        lines.append(
            "Upgrade the pin in requirements.txt or requirements-dev.txt to a fixed version. "
            "Only when no fix exists or it does not apply to us, accept it with a line in "
            f"{ACCEPT_LIST.name}, for example:\n"
            f"  {example.vulnerability_id} | {example.package} | <why we accept it> | "
            f"{date.today().isoformat()}"
        )
    if verdict.passed:
        others = f" other than the {len(verdict.accepted)} accepted" if verdict.accepted else ""
        lines.append(
            f"Dependency audit: {count} pinned packages, no known vulnerabilities{others}."
        )
    return "\n".join(lines), verdict.passed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--require-service",
        action="store_true",
        help="fail when PyPI's vulnerability feed answers for none of the packages",
    )
    arguments = parser.parse_args(argv)
    try:
        accepted = accept_list_parse(text=ACCEPT_LIST.read_text(encoding="utf-8"))
        report = pip_audit_run(requirement_files=REQUIREMENT_FILES)
    except AuditError as error:
        print(f"Dependency audit failed: {error}", file=sys.stderr)
        return 1
    verdict = audit_report_judge(report=report, accepted=accepted)
    text, passed = audit_verdict_report(verdict=verdict, require_service=arguments.require_service)
    print(text, file=sys.stdout if passed else sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
