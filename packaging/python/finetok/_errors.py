class FinetokError(Exception):
    """An error finetok reported: a bad vocabulary, input file, row or option.

    The message is finetok's own (it names the file, line or JSON path and how to fix it).
    `exit_code` is the command-line tool's exit code (1 bad input, 2 usage, 3 output / I-O),
    or None for errors of the in-process tokenizer.
    """

    def __init__(self, message, exit_code=None):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
