"""One PASCAL VOC XML file read safely into its root element.

lxml with entity expansion, DTDs and network access off (no XXE, no billion
laughs), a size cap, namespaces dropped (some tools write a namespaced
root), and a reported text fallback for files that are not UTF-8 and do not
say so. A file that cannot be used raises `SkippableError` carrying the
number of `<object>`s lost with it, counted from the raw bytes so that the
report's accounting balances even when the XML does not parse.
"""

from __future__ import annotations

import re

from lxml import etree

from tfds_builders.core import report
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.exportfs import ExportFiles, decode_text

MAX_XML_BYTES = 32 << 20
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True,
                              load_dtd=False, huge_tree=False)
_OBJECT_TAG = re.compile(rb'<(?:[\w.-]+:)?object[\s>/]')
_DECLARATION = re.compile(r'^\s*<\?xml[^>]*\?>')


def read_annotation(files: ExportFiles, name: str,
                    issues: list[report.Issue]):
  """The `<annotation>` root of `name`; a text-encoding warning, if any, is
  appended to `issues`."""
  data = files.read_bytes(name, limit=MAX_XML_BYTES)
  objects = len(_OBJECT_TAG.findall(data))
  try:
    tree = etree.fromstring(data, _XML_PARSER)
  except etree.XMLSyntaxError as e:
    tree = _other_encoding(data, name, e, objects, issues)
  if tree is None:
    raise _file_error('the file holds no XML element.', name, objects)
  if b'xmlns' in data:  # namespaces are rare: only then walk every tag
    for element in tree.iter():
      if isinstance(element.tag, str) and '}' in element.tag:
        element.tag = element.tag.split('}', 1)[1]
  if tree.tag != 'annotation':
    raise _file_error(f'root element is <{tree.tag}>, not <annotation>: not'
                      ' a PASCAL VOC annotation.', name,
                      len(tree.findall('.//object')))
  return tree


def _other_encoding(data: bytes, name: str, error, objects: int,
                    issues: list[report.Issue]):
  """XML that is not UTF-8 and does not say what it is: read with the
  text fallback (reported) when that makes it parse."""
  text, warning = decode_text(data, file=name)
  if warning:
    try:
      tree = etree.fromstring(_DECLARATION.sub('', text), _XML_PARSER)
    except (etree.XMLSyntaxError, ValueError):
      tree = None
    if tree is not None:
      issues.append(report.Issue(name, '', warning, report.WARNING,
                                 fix='Save the file as UTF-8.'))
      return tree
  raise _file_error(f'malformed XML ({error}).', name, objects)


def _file_error(problem: str, name: str, objects: int) -> SkippableError:
  error = SkippableError(problem, file=name,
                         fix='Fix or re-export the annotation file.')
  error.objects = objects
  return error
