"""`labelbox_export`: a Labelbox export (v2 NDJSON, legacy JSON, TFRecords)."""

from __future__ import annotations

import dataclasses

import tensorflow_datasets as tfds

from tfds_builders.core.builder import (ExportBuilder, ExportConfig,
                                        default_configs)
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.labelbox import download, parse


@dataclasses.dataclass
class LabelboxConfig(ExportConfig):
  """`ExportConfig` and the bounds of each media download.

  Attributes:
    download_deadline_s: a file not downloaded within this many seconds is
      cut off and reported (a server that trickles bytes, or stalls).
    max_download_bytes: a file larger than this is refused (by its
      Content-Length) or cut off, and reported.
  Both are set like any option: `--config '{"name": "slow_net",
  "download_deadline_s": 600, "max_download_bytes": 1073741824}'`.
  """
  download_deadline_s: float = download.DEADLINE_S
  max_download_bytes: int = download.MAX_BYTES


class LabelboxExport(ExportBuilder):
  """Builds the common schema from a Labelbox export."""

  VERSION = tfds.core.Version('1.2.0')
  RELEASE_NOTES = {
      '1.0.0': 'Export v2 NDJSON (boxes, polygons, masks, composite masks),'
               ' legacy JSON and TFRecord exports; media found locally or'
               ' downloaded.',
      '1.1.0': 'Downloads are bounded per file by a total deadline and a size'
               ' cap (config download_deadline_s, max_download_bytes); a host'
               ' that cannot be reached fails its other URLs at once; an'
               ' export without any of its images fails with "no media'
               ' found". Every number (boxes, polygon points, media sizes,'
               ' mask colours) is validated and a bad one skips its object;'
               ' external ids that are no relative file name are not looked'
               ' up instead of failing the build; data splits read through'
               ' the one table of split words; images and masks in the export'
               ' that no row names are reported; absolute tfrecord_paths are'
               ' refused.',
      '1.2.0': 'performance_details.skipped is read as a flag ("false" no'
               ' longer skips a row); a composite mask without color_rgb'
               " skips its object (it had every object's pixels); a black"
               ' mask on a transparent canvas is the shape; one local file'
               ' found for two data rows is warned.',
  }
  BUILDER_CONFIGS = [
      LabelboxConfig(name=c.name, description=c.description,
                     instance_masks=c.instance_masks)
      for c in default_configs()]
  DESCRIPTION = 'A Labelbox export, in the common tfds_builders schema.'
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  Pass the folder of a Labelbox export with `--manual_dir`:
    * export v2 (recommended): the `.ndjson` file from the project's Export
      button, or written by the SDK (`project.export()` / `export_v2()`);
    * the legacy JSON export (`export_labels()`): the `.json` file;
    * the legacy TFRecord export: `export.json` and its TFRecord files.
  Images and masks are read from `images/` and `masks/` (named by global key,
  external id or data row id; masks by feature id) when they are there, and
  downloaded from the export's URLs otherwise (set LABELBOX_API_KEY for
  private media; downloads are cached in the TFDS download folder). Each
  download must finish within 120 s and 256 MiB (config
  `download_deadline_s`, `max_download_bytes`); signed URLs expire, so an
  old export whose images are not in the folder fails with "no media found".
  """

  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    config = self.builder_config
    return parse.parse_export(
        files, dl_manager, self.FIXED_CLASSES,
        deadline_s=getattr(config, 'download_deadline_s', download.DEADLINE_S),
        max_bytes=getattr(config, 'max_download_bytes', download.MAX_BYTES))
