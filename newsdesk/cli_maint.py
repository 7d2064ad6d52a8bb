"""Index maintenance commands: ``newsdesk verify``."""

from __future__ import annotations

import click

from newsdesk.options import index_option, settings_for


@click.command("verify")
@index_option
@click.option(
    "--no-model", "skip_model", is_flag=True, help="Only check the files; do not load the configured model."
)
def verify_command(index_dir: str | None, skip_model: bool) -> None:
    """Check every file of the live index (sha256, sizes, counts, row references) and its model.

    Exits 0 when the index is whole, 1 when a file is damaged (the message names it), 2 when the
    index is missing, newer than this version, or built with another model than the configured one.
    """
    from index import location, store
    from index.build import check_model
    from qa.safe_text import visible

    settings = settings_for(index_dir)
    if location.is_database(settings.index):
        from index.pg.verify import verify_database

        model = verify_database(str(settings.index), echo=click.echo)
        if not skip_model:
            from qa.embedding import embedder_for

            check_model(location.describe(settings.index), model, embedder_for(settings))
            click.echo("model: matches the configured model")
        click.echo("ok")
        return
    report = store.verify(settings.index)
    kept = f"; previous generation {report.previous} kept" if report.previous is not None else ""
    counts = report.counts
    model = report.model
    lines = [
        f"index {report.index_dir}: generation {report.generation} (format {report.format_version}){kept}",
        f"files: {report.files} checked (size and sha256), {report.bytes:,} bytes"
        + ("; manifest matches the checksum in CURRENT" if report.manifest_checked else ""),
        f"counts: {counts.get('articles', 0)} articles, {counts.get('sentences', 0)} sentences, "
        f"{counts.get('chunks', 0)} chunks; vector counts, dimensions and row references agree",
        f"model: {model.name} (backend {model.backend}, sha256 {model.fingerprint[:12]}, dim {model.dim})",
    ]
    if report.leftovers:
        lines.append(f"left by an interrupted write (the next index removes them): {', '.join(report.leftovers)}")
    if report.unlisted:
        lines.append(f"ignored (not in the manifest, never read): {', '.join(report.unlisted)}")
    click.echo(visible("\n".join(lines)))  # file names come from the disk: show control codes as escapes
    if not skip_model:
        from qa.embedding import embedder_for

        check_model(settings.index, model, embedder_for(settings))
        click.echo("model: matches the configured model")
    click.echo("ok")
