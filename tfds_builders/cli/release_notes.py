"""A `diff.Diff` as text for the terminal, as markdown, and as a one-line
release note (a first draft for the builder's RELEASE_NOTES)."""

from __future__ import annotations

import collections

from tfds_builders.cli.diff import Diff, Obj, Version

_LIMIT = 20  # items per list in the terminal; markdown lists them all


def text(diff: Diff, limit: int = _LIMIT) -> str:
  old, new = diff.old, diff.new
  lines = [f'diff: {old.dataset} ({old.folder})',
           f'   -> {new.dataset} ({new.folder})']
  if _other_dataset(diff):
    lines.append(f'note: {_other_dataset(diff)}')
  lines += [f'images: {len(old.images)} -> {len(new.images)}:'
           f' {len(diff.added)} added, {len(diff.removed)} removed,'
           f' {len(diff.changed)} changed (same id, other bytes),'
           f' {len(diff.moved)} moved to another split'
           + (f', {len(diff.renamed)} renamed' if diff.renamed else '')]
  lines += [f'  {split}: {a} -> {b}'
            for split, (a, b) in diff.images_per_split().items()]
  lines.append(f'classes: {len(old.classes)} -> {len(new.classes)}:'
               f' {_class_changes(diff) or "no change"}')
  lines.append('objects per class (before -> after):')
  lines += [f'  {name}: {a} -> {b}{_change(a, b)}'
            for name, (a, b) in diff.objects_per_class().items()]
  for title, items in _sections(diff):
    lines.append(f'{title} ({len(items)})' + (':' if items else ''))
    lines += [f'  {item}' for item in items[:limit]]
    if len(items) > limit:
      lines.append(f'  ... {len(items) - limit} more (all of them with'
                   ' --markdown FILE)')
  lines.append(f'suggested release note: {release_note(diff)}')
  return '\n'.join(lines)


def markdown(diff: Diff) -> str:
  old, new = diff.old, diff.new
  old_name, name = (_name(v) for v in (old, new))
  title = (f'# {name}: {_version(old)} -> {_version(new)}'
           if old_name == name else
           f'# {old_name} {_version(old)} -> {name} {_version(new)}')
  out = [title, '',
         f'Compared `{old.folder}` ({old.dataset}) with `{new.folder}`'
         f' ({new.dataset}). Boxes are [ymin, xmin, ymax, xmax] in fractions'
         ' of the image size; a box moved when an edge moved more than'
         f' {diff.box_tolerance:g}.'
         + (f' Note: {_other_dataset(diff)}' if _other_dataset(diff)
            else ''), '',
         '## Suggested release note', '', '```python',
         f'RELEASE_NOTES = {{{_version(new)!r}: {release_note(diff)!r}}}',
         '```', '', '## Images', '',
         '| split | before | after | change |', '| --- | --- | --- | --- |']
  out += [f'| {split} | {a} | {b} | {_change(a, b).strip(" ()") or "0"} |'
          for split, (a, b) in diff.images_per_split().items()]
  out += [f'| all | {len(old.images)} | {len(new.images)} |'
          f' {_change(len(old.images), len(new.images)).strip(" ()") or "0"} |',
          '', '## Classes', '', _class_changes(diff) or 'No change.', '',
          '## Objects per class', '', '| class | before | after | change |',
          '| --- | --- | --- | --- |']
  out += [f'| {name} | {a} | {b} | {_change(a, b).strip(" ()") or "0"} |'
          for name, (a, b) in diff.objects_per_class().items()]
  for title, items in _sections(diff):
    out += ['', f'## {title[0].upper()}{title[1:]} ({len(items)})', '']
    out += [f'- {item}' for item in items] or ['None.']
  return '\n'.join(out) + '\n'


def release_note(diff: Diff) -> str:
  """One line: what a user of the dataset needs to know first."""
  parts = []
  images = [(n, what) for n, what in (
      (len(diff.added), 'added'), (len(diff.removed), 'removed'),
      (len(diff.changed), 'replaced by other image bytes')) if n]
  if images:  # "3 images added, 1 removed"
    (n, what), rest = images[0], images[1:]
    parts.append(', '.join([f'{_count(n, "image")} {what}'] +
                           [f'{m} {other}' for m, other in rest]))
  if diff.moved:
    ways = collections.Counter((a, b) for _, _, a, b in diff.moved)
    parts.append(_count(len(diff.moved), 'image') + ' moved between splits ('
                 + ', '.join(f'{n} {a} -> {b}' for (a, b), n in
                             sorted(ways.items())) + ')')
  if diff.renamed:
    parts.append(_count(len(diff.renamed), 'image') + ' renamed')
  classes = _class_changes(diff)
  if classes:
    parts.append(classes)
  objects = []
  if diff.relabelled:
    objects.append(_count(len(diff.relabelled), 'object') + ' relabelled')
  if diff.boxes_moved:
    objects.append(_count(len(diff.boxes_moved), 'box', 'boxes') + ' moved')
  if diff.objects_added:
    objects.append(_count(len(diff.objects_added), 'object') + ' added')
  if diff.objects_removed:
    objects.append(_count(len(diff.objects_removed), 'object') + ' removed')
  if objects:
    parts.append(', '.join(objects))
  if not parts:
    return 'Rebuilt; no change to images, labels, boxes or splits.'
  return '; '.join(parts) + '.'


def _sections(diff: Diff) -> list[tuple[str, list[str]]]:
  old, new = diff.old.images, diff.new.images
  return [
      ('added images', [_image(i, new) for i in diff.added]),
      ('removed images', [_image(i, old) for i in diff.removed]),
      ('changed images (same id, other bytes)',
       [f"{i} ({new[i]['split']})" for i in diff.changed]),
      ('moved between splits', [
          (f'{i}' if i == j else f'{i} -> {j}') + f': {a} -> {b}'
          for i, j, a, b in diff.moved]),
      ('renamed (same bytes, same split)',
       [f'{i} -> {j}' for i, j in diff.renamed]),
      ('relabelled objects', [f'{i}: {a.label} -> {b.label} at {_box(b)}'
                              + (f' (was {_box(a)})' if a.box != b.box
                                 else '')
                              for i, a, b in diff.relabelled]),
      (f'moved boxes (an edge beyond {diff.box_tolerance:g})',
       [f'{i}: {a.label} {_box(a)} -> {_box(b)}'
        for i, a, b in diff.boxes_moved]),
      ('objects added to kept images',
       [f'{i}: {o.label} {_box(o)}' for i, o in diff.objects_added]),
      ('objects removed from kept images',
       [f'{i}: {o.label} {_box(o)}' for i, o in diff.objects_removed]),
  ]


def _other_dataset(diff: Diff) -> str:
  """A warning when the two folders are builds of different datasets or
  configs (a move from one export format to another), else ''."""
  names = [_name(v) for v in (diff.old, diff.new)]
  if names[0] == names[1]:
    return ''
  return (f'these are different datasets ({names[0]}, {names[1]}): images'
          ' are matched by id, or by identical bytes under another id, so'
          ' ids that each format spells its own way show as removed and'
          ' added.')


def _class_changes(diff: Diff) -> str:
  parts = []
  if diff.classes_added:
    parts.append(_count(len(diff.classes_added), 'class', 'classes')
                 + ' added: ' + ', '.join(diff.classes_added))
  if diff.classes_removed:
    parts.append(_count(len(diff.classes_removed), 'class', 'classes')
                 + ' removed: ' + ', '.join(diff.classes_removed))
  if diff.label_ids_changed:
    parts.append('label ids changed: ' + ', '.join(
        f'{c} {a} -> {b}' for c, a, b in diff.label_ids_changed))
  return '; '.join(parts)


def _image(image_id: str, images: dict) -> str:
  entry = images[image_id]
  return (f"{image_id} ({entry['split']},"
          f" {_count(len(entry['objects']), 'object')})")


def _box(obj: Obj) -> str:
  return '[' + ', '.join(f'{v:.3f}' for v in obj.box) + ']'


def _change(before: int, after: int) -> str:
  return f' ({after - before:+d})' if after != before else ''


def _count(n: int, one: str, many: str | None = None) -> str:
  return f'{n} {one if n == 1 else (many or one + "s")}'


def _name(version: Version) -> str:
  """`voc_export/default` from `voc_export/default/1.1.0`."""
  return (version.dataset.rsplit('/', 1)[0] if version.dataset.count('/')
          else version.dataset)


def _version(version: Version) -> str:
  """`1.1.0` from `voc_export/default/1.1.0`, else the folder's name."""
  last = version.dataset.rsplit('/', 1)[-1]
  return last if last[:1].isdigit() else version.folder.name
