"""`labelbox_cars`: the flagship dataset, Tesla Model 3 cars labelled in Labelbox.

The project's first models were trained straight from a Labelbox export of
car photos; this builder makes that export a versioned dataset: one class,
`Model 3`, 80/20 train/test by image id unless the export carries Labelbox
data splits, and boxes painted into `segmentation_mask` when an object has no
polygon or mask (the seed model learned segmentation from box labels).
"""

from __future__ import annotations

import tensorflow_datasets as tfds

from tfds_builders.labelbox.builder import LabelboxExport


class LabelboxCars(LabelboxExport):
  """Tesla Model 3 cars from a Labelbox project export."""

  VERSION = tfds.core.Version('1.1.0')
  RELEASE_NOTES = {
      '1.0.0': 'Initial release: class "Model 3"; boxes, polygons and masks;'
               ' 80/20 train/test by hashed data row id unless the export'
               ' has data splits; box-only cars painted into'
               ' segmentation_mask.',
      '1.1.0': 'As labelbox_export 1.1.0: bounded downloads (deadline, size'
               ' cap), "no media found" for an export without its images,'
               ' validated numbers, unsafe external ids not looked up, images'
               ' no row names reported. Box-only cars keep an all-zero'
               ' instance mask (has_mask False), never the box.',
  }
  FIXED_CLASSES = ('Model 3',)
  BOX_MASKS = True
  DESCRIPTION = ('Photos of Tesla Model 3 cars labelled in Labelbox (boxes,'
                 ' polygons, masks), for detection and segmentation.')
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  1. In Labelbox, open the cars project, press Export > Export data (export
     v2), tick "Include labels" (and "Data row details"), and download the
     `.ndjson` file. From Python the same file comes from the SDK:
       task = client.get_project(PROJECT_ID).export(
           params={'label_details': True, 'data_row_details': True})
       task.wait_till_done()
       with open('export.ndjson', 'w') as f:
         task.get_buffered_stream().start(
             stream_handler=lambda out: f.write(json.dumps(out.json) + '\\n'))
     (older SDKs: `project.export_v2(params=...)`, then write each row of
     `task.result` as one JSON line).
  2. Put it in a folder, e.g. ~/Downloads/labelbox_export/export.ndjson.
  3. For an offline build, download the images into `images/` in that folder,
     each named by its global key (or external id, or data row id), and mask
     PNGs into `masks/<feature_id>.png`. Otherwise they are downloaded from
     the export's URLs at build time (signed URLs expire after a while:
     export again if downloads fail; set LABELBOX_API_KEY for mask URLs).
  4. tfds build labelbox_cars --imports tfds_builders \\
         --manual_dir ~/Downloads/labelbox_export
  Every object must be of the class "Model 3"; other classes are an error
  (build labelbox_export for multi-class projects). No export at hand?
  `python scripts/make_sample_export.py --output sample_export` writes a
  synthetic one.
  """
