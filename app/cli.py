"""Command-line tools: `flask bank ...` (more groups are added by later features)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.bank.files import BankFormatError

bank = AppGroup("bank", help="Load and import interview questions.")


@bank.command("load")
def bank_load() -> None:
    """Load the built-in question bank (idempotent: updates changed questions)."""
    from app.bank.loader import load_bank

    try:
        report = load_bank()
    except BankFormatError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"bank: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )


def register(app: Flask) -> None:
    app.cli.add_command(bank)
