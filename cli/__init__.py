"""The ``eosfast`` command line (installed as ``eosfast.cli``): thin click commands."""
