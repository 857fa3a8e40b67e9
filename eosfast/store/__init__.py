"""The store layer: every file eosfast writes or reads goes through here.

- :mod:`.atomic`: :class:`Output`, the one way to write a file: path checks,
  an exclusive lock, ``--force`` / ``--resume`` rules, ``.part`` then rename.
- :mod:`.layouts`: the layout of each file kind (grid, trajectory,
  bifurcation, nets, zoom), described once and checked on opening.
- :mod:`.h5`: the opener, the compression policy, dataset creation.
- :mod:`.gridfile`: the grid file's tiles, resume bookkeeping and checksums.
- :mod:`.integrity`: whether a file of any kind is complete and intact.
"""

import importlib
from typing import Any

#: Public name -> submodule (loaded on first use: h5py only when a file is touched).
_EXPORTS = {"Output": "atomic", "check_output": "atomic", "part_path": "atomic",
            "open_file": "h5", "file_kind": "h5", "write_file": "h5",
            "verify": "integrity"}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'eosfast.store' has no attribute {name!r}")
