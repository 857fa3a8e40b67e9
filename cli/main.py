"""The ``eosfast`` click group.

Commands live one per module in this package and are imported only when run,
so ``eosfast --help`` stays instant although the kernels are heavy. Every
:class:`~eosfast.EosfastError` and every click usage error ends as a single
line on stderr and exit status 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from eosfast._version import __version__

#: command name -> (module in eosfast.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "grid": ("grid", "grid", "Iterate GD from every point of an (x0, y0, eta) grid."),
    "info": ("info", "info", "Summarise a result file."),
    "bench": ("bench", "bench", "Throughput of the grid kernel against NumPy."),
    "trajectory": ("trajectory", "trajectory", "One GD run, every step recorded."),
    "bifurcation": ("bifurcation", "bifurcation", "Orbit diagram over a range of eta."),
    "plot": ("plot", "plot", "Plot a result file."),
    "figure": ("figure", "figure", "Regenerate a figure of the paper."),
    "fractal": ("fractal", "fractal", "Fractal dimension of a basin boundary."),
    "zoom": ("zoom", "zoom", "Nested grids toward a point."),
    "nets": ("nets", "nets", "Full-batch GD on small networks (paper Fig. 1)."),
    "refine": ("refine", "refine", "A basin map refined where the outcome changes."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx):
        return [name for name in COMMANDS if self._available(name)]

    @staticmethod
    def _available(name: str) -> bool:
        module = COMMANDS[name][0]
        return importlib.util.find_spec(f"eosfast.cli.{module}") is not None

    def get_command(self, ctx, name):
        if name not in COMMANDS or not self._available(name):
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"eosfast.cli.{module}"), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eosfast")
def cli() -> None:
    """eosfast: gradient descent at the edge of stability, compiled.

    Grids of (x0, y0, eta), trajectories, bifurcation diagrams, fractal basins
    and the figures of Zhu et al. (ICLR 2023), stored as HDF5.
    """


def fail(message: str, code: int = 2) -> None:
    """Print ``eosfast: error: message`` on one line and exit."""
    message = " ".join(str(message).split())
    click.echo(f"eosfast: error: {message}", err=True)
    sys.exit(code)


def flag_spelling(command: click.Command | None) -> dict[str, str]:
    """Python parameter name -> the long flag a user types (``eta_res`` -> ``--eta-res``)."""
    out: dict[str, str] = {}
    for p in getattr(command, "params", ()):
        if isinstance(p, click.Option) and p.name:
            longs = [o for o in p.opts if o.startswith("--")]
            out[p.name] = longs[0] if longs else p.opts[0]
    return out


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group, turning user errors into one line and exit 2."""
    from eosfast.errors import EosfastError, Interrupted, InvalidArgument

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        rv = cli.main(args=argv, prog_name="eosfast", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("eosfast: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except InvalidArgument as exc:
        name = next((a for a in argv if a in COMMANDS), None)
        command = cli.get_command(None, name) if name else None
        fail(exc.render(flag_spelling(command)))
    except EosfastError as exc:
        fail(str(exc))
    except Interrupted as exc:
        fail(str(exc), 130)
    except KeyboardInterrupt:
        click.echo("eosfast: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
