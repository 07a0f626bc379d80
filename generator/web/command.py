"""``beslut web``: the command that starts the web page, or adds a user to its user file.

The web face owns its command. The program (``generator/beslut.py``) puts it beside the
CLI's commands and gives it the options every command takes (--organisationer, --out,
--mallar), which its callback receives; the ``beslut`` group reports its errors and exits.
The server is imported only when the command runs, so ``beslut --help`` stays quick.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("web", options_metavar="[FLAGGOR]")
@click.option("--innehall", "content", type=click.Path(file_okay=False, path_type=Path), metavar="MAPP",
              default=None,
              help="Innehållsmappen med arenden/ och utskick/. Standard: mappen där "
              "organisationsregistret ligger (content/).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADRESS",
              help="Adress att lyssna på. Annat än den egna datorn kräver inloggning.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, metavar="PORT",
              help="Port att lyssna på.")
@click.option("--anvandare", "users", type=click.Path(dir_okay=False, path_type=Path), metavar="FIL",
              help="Användarfil med hashade lösenord (inloggning med användarnamn och lösenord).")
@click.option("--betrott-huvud", "trusted_header", metavar="NAMN",
              help="HTTP-huvud där stadens omvända proxy anger inloggad användare, t.ex. X-Remote-User.")
@click.option("--betrodd-proxy", "proxies", multiple=True, metavar="ADRESS",
              help="Adress eller nät (CIDR) för stadens omvända proxy; kan upprepas. Bara därifrån godtas "
              "--betrott-huvud och X-Forwarded-For/-Proto. Standard: den egna datorn. Krävs för "
              "--betrott-huvud om servern lyssnar på annat än den egna datorn.")
@click.option("--vardnamn", multiple=True, metavar="NAMN",
              help="Serverns namn i webbläsaren, t.ex. beslut.goteborg.se; kan upprepas. Sidan svarar bara "
              "på 127.0.0.1, localhost och sina egna namn.")
@click.option("--tillstand", "state", type=click.Path(file_okay=False, path_type=Path), metavar="MAPP",
              help="Mapp för serverns nyckel, inloggningar och händelselogg (inte i innehållsmappen). "
              "Standard: OUT/.beslut-web.")
@click.option("--ny-anvandare", "new_user", metavar="NAMN",
              help="Lägg till eller byt lösenord för NAMN i --anvandare-filen och avsluta.")
@click.option("--omvandlare", "converters", type=click.IntRange(1, 8), default=1, show_default=True,
              metavar="ANTAL", help="Antal varma LibreOffice-omvandlare (ca 200 MB minne var).")
def web(organisationer: Path, out: Path, mallar: Path | None, content: Path | None, host: str, port: int,
        users: Path | None, trusted_header: str | None, proxies: tuple[str, ...], vardnamn: tuple[str, ...],
        state: Path | None, new_user: str | None, converters: int) -> None:
    """Starta webbsidan där handläggare skriver, kontrollerar och skapar ärenden i webbläsaren.

    Sidan nås på http://ADRESS:PORT/. Som standard lyssnar den bara på den egna datorn;
    för att andra ska nå den krävs --anvandare eller --betrott-huvud (se docs/web.md).
    Nya lösenord ska ha minst 12 tecken och får inte vara vanliga.
    """
    from .server import serve

    content = content or organisationer.parent

    if new_user:
        from .security import add_user

        if users is None:
            raise click.UsageError("Ange användarfilen med --anvandare FIL.")
        add_user(users, new_user, click.prompt("Lösenord", hide_input=True, confirmation_prompt="Upprepa lösenordet"))
        click.echo(f"Sparade {new_user} i {users}.")
        return
    serve(content=content, organisationer=organisationer, out=out, host=host, port=port, users=users,
          trusted_header=trusted_header, converters=converters, templates=mallar, vardnamn=vardnamn,
          proxies=proxies, state=state)
