"""COCO categories: read from every instance file, turned into the class list.

Rules (the class list is what a model's output layer is built from):
  * Classes are category *names*, in the order of their ids (ids may start
    at 0, have gaps, or be text as Labelbox writes them); labels are
    0..N-1 in that order. `info.metadata['coco_categories']` keeps the map
    back: one entry per category id that is a class, with its label.
  * Categories sharing a name are one class, reported as a warning (the
    names are what annotations mean; two output units for one name would
    split its objects at random).
  * A category that labels no annotation and that other categories name as
    their `supercategory` is a grouping, not a class, and is left out with a
    warning. Roboflow writes its project this way: category 0 with
    supercategory `none`, parent of every real class (`roboflow_coco_chess`:
    id 0 `pieces`; see roboflow/roboflow-100-benchmark#45, and rf-detr#1303,
    where Roboflow's own trainer drops exactly these). An annotated parent
    stays a class; so do unused categories that are not parents (a split may
    simply lack examples of a class).
  * `background` is what segmentation value 0 means, never a class: that
    category is left out with a warning, and objects labelled with it are
    skipped and reported by the encoder.
  * The same id with two names in two files is an error (the files do not
    describe one dataset); the same name under two ids is merged as above.
"""

from __future__ import annotations

import dataclasses

from tfds_builders.core import report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.labels import BACKGROUND, ClassList


@dataclasses.dataclass(frozen=True)
class Category:
  id: int | str
  name: str
  supercategory: str | None
  file: str  # where it was first defined

  @property
  def order(self) -> tuple:
    """Id order: numbers, then texts (digit strings by their number)."""
    if isinstance(self.id, int):
      return (0, self.id, '')
    text = self.id
    return (1, len(text), text) if text.isdigit() else (2, 0, text)


def id_key(value) -> str | None:
  """The key an id is matched by (image, category and annotation ids), or
  None when `value` is not an id: JSON integers and non-empty strings are.
  Booleans and floats are not (`True == 1` in Python, `1.5` names nothing).
  """
  if isinstance(value, bool):
    return None
  if isinstance(value, int):
    return str(value)
  if isinstance(value, str) and value.strip():
    return value
  return None


def read_categories(data: dict, file: str) -> dict[str, Category]:
  """Category id key -> Category of one instance file."""
  found: dict[str, Category] = {}
  for index, category in enumerate(data.get('categories') or []):
    item = f'category #{index + 1}'
    if not isinstance(category, dict):
      raise ExportError('category is not a JSON object.', file=file,
                        item=item, fix='Re-export the annotations.')
    key = id_key(category.get('id'))
    if key is None:
      raise ExportError(f'category id {category.get("id")!r} is not an'
                        ' integer or a text id.', file=file, item=item,
                        fix='Give every category an id.')
    name = category.get('name')
    item = f'category id {category["id"]}'
    if isinstance(name, int) and not isinstance(name, bool):
      name = str(name)  # digit classes written as numbers: "name": 7
    if name is not None and not isinstance(name, str):
      raise ExportError(f'category name {name!r} is a'
                        f' {type(name).__name__}, not text.', file=file,
                        item=item, fix='Name every category with text.')
    if not name or not name.strip():
      raise ExportError(f'category name {name!r} is missing or empty.',
                        file=file, item=item, fix='Name every category.')
    supercategory = category.get('supercategory')
    new = Category(category['id'], name, supercategory if isinstance(
        supercategory, str) else None, file)
    seen = found.get(key)
    if seen is not None and seen.name != name:
      raise ExportError(
          f'category id {category["id"]} is listed twice, as {seen.name!r}'
          f' and {name!r}.', file=file, item=item,
          fix='Give each category its own id.')
    found.setdefault(key, new)
  return found


class CategoryTable:
  """The categories of every instance file and which ones annotations use."""

  def __init__(self):
    self._categories: dict[str, Category] = {}
    self._used: set[str] = set()

  def add_file(self, categories: dict[str, Category]) -> None:
    for key, category in categories.items():
      seen = self._categories.get(key)
      if seen is None:
        self._categories[key] = category
      elif seen.name != category.name:
        raise ExportError(
            f'category id {category.id} is {category.name!r} here but'
            f' {seen.name!r} in {seen.file}.', file=category.file,
            item=f'category id {category.id}',
            fix='Export every split with the same category list.')

  def use(self, key: str) -> None:
    self._used.add(key)

  def resolve(self, files: list[str]
              ) -> tuple[ClassList, list[dict], list[report.Issue]]:
    """The class list, `coco_categories` metadata and report entries."""
    ordered = sorted(self._categories.items(), key=lambda kv: kv[1].order)
    if not ordered:
      raise ExportError(
          'no instance file lists any category, so there is no class list.',
          file=files[0], fix='Export the annotations with their categories.')
    parents: dict[str, set[str]] = {}
    for key, category in ordered:
      if category.supercategory:
        parents.setdefault(category.supercategory, set()).add(key)
    background = [c for _, c in ordered if c.name == BACKGROUND]
    groupings = {key for key, c in ordered
                 if c.name != BACKGROUND and key not in self._used
                 and parents.get(c.name, set()) - {key}}
    kept = [c for key, c in ordered
            if c.name != BACKGROUND and key not in groupings]
    if not kept:  # nothing but groupings: keep them rather than no classes
      kept, groupings = [c for key, c in ordered if key in groupings], set()
    if not kept:
      raise ExportError(
          f'the only category is {BACKGROUND!r}, so there is no class.',
          file=ordered[0][1].file, fix='Name the categories of the objects.')
    issues = [_left_out(c, f'category {BACKGROUND!r} is what segmentation'
                        ' value 0 means (pixels outside every object), not a'
                        ' class') for c in background]
    issues += [_left_out(c, f'category {c.name!r} labels no annotation and is'
                         ' the supercategory of the others (Roboflow writes'
                         ' its project name this way); it is not a class')
               for key, c in ordered if key in groupings]
    names: dict[str, list[Category]] = {}
    for category in kept:
      names.setdefault(category.name, []).append(category)
    for name, same in names.items():
      if len(same) > 1:
        ids = ', '.join(str(c.id) for c in same)
        issues.append(report.Issue(
            same[-1].file, f'category id {same[-1].id}',
            f'categories {ids} share the name {name!r}; they are one class',
            report.WARNING, fix='Merge or rename them in the labelling tool.'))
    label_of = {name: label for label, name in enumerate(names)}
    metadata = [{'id': c.id, 'name': c.name, 'supercategory': c.supercategory,
                 'label': label_of[c.name]} for c in kept]
    source = 'COCO categories of ' + (
        ', '.join(files) if len(files) < 4 else
        f'{len(files)} annotation files')
    return ClassList(tuple(names), source), metadata, issues


def _left_out(category: Category, why: str) -> report.Issue:
  return report.Issue(category.file, f'category id {category.id}', why,
                      report.WARNING)
