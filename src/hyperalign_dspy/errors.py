"""The one exception type the library raises for problems a user can fix."""


class HyperAlignError(Exception):
    """Bad input, a missing or corrupt model file, an unusable LM setting.

    The message is one line that names the problem; the CLI prints it and exits with status 2.
    """
