"""Exports of a render run to the formats other tools read (``transphy3d export``).

Modules, one job each: ``options`` (the command's choices), ``run`` (the scenes of a run, resume, skipping bad scenes, progress and
summary), ``masks`` (binary masks: RLE, boxes, amodal silhouettes by ray casting), ``catalogue``
(BOP object ids: one per distinct mesh and material class), ``bop`` (BOP-scenewise), ``coco``
(COCO instances), ``published`` (the published TransPhy3D WebDataset shards). Every exporter reads
scenes through ``transphy3d.output.reader`` and writes through ``transphy3d.files``.
"""
