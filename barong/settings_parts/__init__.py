"""The parts of ``barong/settings.py``, one concern each; the environment is read only here."""
