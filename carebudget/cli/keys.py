"""`carebudget keys new`: a fresh key for the Temporal payload encryption (CAREBUDGET_PAYLOAD_KEYS)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("keys-new")
    def keys_new(
        key_id: str = typer.Option("k1", "--id", help="A name for the key, kept in every payload it seals"),
    ) -> None:
        """Print a new AES-256 payload key as id:base64. To rotate, put it first in
        CAREBUDGET_PAYLOAD_KEYS and keep the old keys after it until no running case needs them."""
        from carebudget.service.codec import new_key_text

        if not key_id or "," in key_id or ":" in key_id:
            raise typer.BadParameter("a key id has no commas or colons", param_hint="--id")
        typer.echo(new_key_text(key_id))
