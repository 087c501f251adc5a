"""The one exception type every builder raises for a bad export.

Messages always say where (file, record or annotation), what is wrong and
what the user can do about it, so a build never ends in a bare traceback from
deep inside TensorFlow or Pillow.
"""

from __future__ import annotations


class ExportError(ValueError):
  """A problem with the export that the user has to fix (or skip).

  Attributes:
    problem: what is wrong, in one sentence.
    file: the export file concerned, relative to the export root if possible.
    item: the record, element or annotation inside `file` (e.g. `object #2`).
    fix: what the user can do about it.
  """

  def __init__(self, problem: str, *, file: str | None = None,
               item: str | None = None, fix: str | None = None):
    self.problem = problem
    self.file = file
    self.item = item
    self.fix = fix
    super().__init__(self._render())

  def __reduce__(self):
    """Pickled with its fields (errors travel back from worker processes)."""
    return (_rebuild, (type(self), self.problem, self.file, self.item,
                       self.fix))

  def _render(self) -> str:
    where = ': '.join(str(p) for p in (self.file, self.item) if p)
    text = f'{where}: {self.problem}' if where else self.problem
    if self.fix:
      text += f' Fix: {self.fix}'
    return text


class SkippableError(ExportError):
  """A per-item problem: skipped and reported by default, fatal when strict."""


def _rebuild(cls, problem, file, item, fix):
  return cls(problem, file=file, item=item, fix=fix)
