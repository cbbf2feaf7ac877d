"""The errors a user can cause, each with the ``survey`` command's exit code.

The command prints such an error as one line (Japanese, then English after `` / ``) and exits
with :attr:`SurveyError.exit_code`: 2 for how the command was called or the machine it runs
on (usage, folders, permissions, disk), 1 for the data.
"""

from __future__ import annotations

__all__ = ["DataError", "SurveyError", "UnprotectedCellsWarning", "UsageError"]


class SurveyError(Exception):
    """A mistake the user can correct; the message says what and where, without a traceback."""

    exit_code = 1

    def __init__(self, ja: str, en: str):
        super().__init__(f"{ja} / {en}")
        self.ja, self.en = ja, en


class UsageError(SurveyError):
    """The command was called in a way that cannot work (folders, options, environment)."""

    exit_code = 2


class DataError(SurveyError):
    """The input data cannot give a result (e.g. a raw folder without any survey workbook)."""

    exit_code = 1


class UnprotectedCellsWarning(UserWarning):
    """An analyst's table (:func:`analysis.tabulation.suppress`) has hidden counts that its
    published totals give away. The report never warns: publish mode leaves such a table out
    and says why in its appendix. The message is Japanese, then English after `` / ``."""

    def __init__(self, ja: str, en: str):
        super().__init__(f"{ja} / {en}")
        self.ja, self.en = ja, en
