"""Finding the image an annotation names, and the images nothing names.

Tools write image names every way: bare (`a.jpg`), relative to the
annotation (`../JPEGImages/a.jpg` is refused, `images/a.jpg` is fine),
relative to the export root, with the wrong suffix case (`A.JPG` on disk for
`A.jpg`), without a suffix, or with a folder that no longer exists (labelImg
`<path>`, Label Studio `images/` prefixes). One lookup serves every format:

  1. the name relative to each folder in `near` (the annotation's folder
     first), then to the export root, `images/`, `images/<split>/` and
     `<split>/`; a suffix-less name tries each image suffix; the suffix and
     the name's case may differ from the file on disk;
  2. failing those, the one image of that base name anywhere in the export
     (indexed once); two or more are reported as ambiguous, never guessed.
     When the annotation gave a folder (`train/0001.jpg`), taking the one
     `0001.jpg` elsewhere is reported as a repair: numbering restarts per
     folder in many tools, so it may be another image.

Every image found is claimed; `unclaimed()` lists the images present that
no annotation named, which the builders report as not included.
"""

from __future__ import annotations

import dataclasses
import posixpath

from tfds_builders.core import report, splits
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import (ExportFiles, check_name,
                                         is_absolute_name)

# Every suffix Ultralytics trains on (its IMG_FORMATS) is an image here too:
# one it has and we lacked was left out without a word. Those Pillow cannot
# read (HEIC, DNG, AVIF without plugins) are skipped with the reason.
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp', '.tif',
                  '.tiff', '.mpo', '.jfif', '.heic', '.heif', '.dng',
                  '.avif', '.jp2', '.jpeg2000')


@dataclasses.dataclass(frozen=True)
class Found:
  name: str | None  # relative to the export root; None: not found
  problem: str = ''  # why not: where it looked, or the ambiguous matches


class ImageLookup:
  """Looks up image names in one export; remembers what it found."""

  def __init__(self, files: ExportFiles, ignore_folders: tuple[str, ...] = ()):
    """`ignore_folders`: folder names (any depth, any case) that hold masks
    or other files that are not images of the export (`SegmentationClass`)."""
    self.files = files
    ignored = {f.lower() for f in ignore_folders}
    images = [n for n in files.files(suffixes=IMAGE_SUFFIXES)
              if not ignored & {p.lower() for p in n.split('/')[:-1]}]
    self._lower: dict[str, list[str]] = {}
    for name in images:
      self._lower.setdefault(name.lower(), []).append(name)
    self._images = images
    self._image_set = set(images)
    self._claimed: set[str] = set()
    # Images found by their name alone, elsewhere than the path named.
    self._elsewhere: list[report.Issue] = []

  def find(self, name: str, *, near: tuple[str, ...] = (),
           split_folder: str | None = None, file: str | None = None,
           item: str | None = None, anywhere: bool = True) -> Found:
    """The image `name` refers to (see the module doc for the order).

    A `name` that is absolute or climbs out with `..` is not found (its
    problem says why); `near` are folders
    relative to the export root, the annotation's own folder first;
    `split_folder` is the split's folder name as the export spells it
    (`valid`, `train2017`), when the annotation belongs to one. Without
    `anywhere`, step 2 (the image of that name anywhere) is left out.
    """
    try:
      relative = check_name(name, file=file, item=item).as_posix()
    except ExportError as e:
      # One annotation's path leading out skips its image (reported), not
      # the build; the path itself is never opened. An absolute path is
      # where the image was on the labelling machine (Label Studio's local
      # storage, Detectron2's file_name): the one image of its name in the
      # export is used, reported.
      problem = e.problem.rstrip('.')
      base = name.replace('\\', '/').rsplit('/', 1)[-1]
      if not anywhere or not is_absolute_name(name) or not base:
        return Found(None, problem)
      matches = self._by_base_name(base)
      if len(matches) == 1:
        return self._used_elsewhere(
            matches[0], name, file, f'{problem}; the one image named'
            f' {base!r} in the export is used', 'export with paths relative'
            ' to the export')
      return Found(None, f'{problem}; {len(matches) or "no"} image(s) named'
                   f' {base!r} in the export')
    folders = list(near) + ['', 'images']
    if split_folder:
      folders += [f'images/{split_folder}', split_folder]
    tried = []
    for folder in dict.fromkeys(folders):
      candidate = posixpath.normpath(posixpath.join(folder, relative))
      if candidate.startswith('../'):
        continue
      tried.append(folder + '/' if folder else './')
      found = self._match(candidate)
      if isinstance(found, list):
        return Found(None, f'{len(found)} images differ from {candidate!r}'
                     f' only in case ({", ".join(found[:5])}) and none is'
                     ' that name exactly')
      if found:
        return self._claim(found)
    base = relative.rsplit('/', 1)[-1]
    matches = self._by_base_name(base) if anywhere else []
    if len(matches) == 1 and split_folder:
      ours = splits.split_word(split_folder)
      theirs = splits.split_from_folders(matches[0].split('/')[:-1])
      if ours and theirs and theirs[0] != ours:
        # Frame and photo numbers restart per subset (CVAT's
        # frame_000000.jpg in every one): most likely another image.
        return Found(None, f'looked for {relative!r} in {", ".join(tried)};'
                     f' the one image named {base!r} is {matches[0]}, in the'
                     f' folder of another split ({theirs[1]}/), most likely'
                     ' another image')
    if len(matches) == 1:
      if '/' in relative:  # the annotation said where, and it is not there
        return self._used_elsewhere(
            matches[0], name, file, f'is not at {relative!r}; the one image'
            ' of this name in the export is used', 'fix the path')
      return self._claim(matches[0])
    if matches:
      shown = ', '.join(matches[:5]) + (', ...' if len(matches) > 5 else '')
      return Found(None, f'{len(matches)} images are named {base!r} ({shown})'
                   ' and the annotation does not say which one')
    return Found(None, f'looked for {relative!r} in {", ".join(tried)} and'
                 f' for any image named {base!r} in the export')

  def claim(self, name: str) -> None:
    self._claimed.add(name)

  def unclaimed(self, under: str = '') -> list[str]:
    """Images present (under folder `under`) that nothing has named."""
    prefix = under.strip('/') + '/' if under.strip('/') else ''
    return [n for n in self._images
            if n not in self._claimed and n.startswith(prefix)]

  def unclaimed_issues(self, why: str = 'no annotation names this image'
                       ) -> list[report.Issue]:
    """What the lookup reports: images found by their name alone elsewhere
    than the path an annotation gives, then images nothing names."""
    return self._elsewhere + [report.Issue(name, '', why, report.NOT_INCLUDED,
                         fix='Annotate it (an image without objects is kept'
                         ' when a split list or annotation names it), or'
                         ' delete it.') for name in self.unclaimed()]

  def _match(self, candidate: str) -> str | list[str] | None:
    """The indexed image for `candidate`: exactly that name (or it with an
    image suffix added, for names written without one), else the image
    equal to it but for case. Several of those, and none exact, come back
    as a list: which one is meant is not known (`Cat.jpg`, `cat.jpg`)."""
    names = [candidate] + [
        candidate + s for s in IMAGE_SUFFIXES
        if posixpath.splitext(candidate)[1].lower() not in IMAGE_SUFFIXES]
    for name in names:
      if name in self._image_set:
        return name
    for name in names:
      same = self._lower.get(name.lower())
      if same:
        return same[0] if len(same) == 1 else sorted(same)
    return None

  def _by_base_name(self, base: str) -> list[str]:
    names = [base]
    if posixpath.splitext(base)[1].lower() not in IMAGE_SUFFIXES:
      names += [base + suffix for suffix in IMAGE_SUFFIXES]
    return sorted(n for name in names for n in self.files.named(name)
                  if n in self._image_set)

  def _used_elsewhere(self, match: str, name: str, file: str | None,
                      problem: str, or_else: str) -> Found:
    """`match`, the one image of `name`'s base name, claimed for an
    annotation that named it elsewhere; reported as a repair."""
    self._elsewhere.append(report.Issue(
        match, f'named {name!r} in {file}' if file else name, problem,
        report.REPAIRED, fix=f'Check that it is the right image, or'
        f' {or_else}.'))
    return self._claim(match)

  def _claim(self, name: str) -> Found:
    self._claimed.add(name)
    return Found(name)

