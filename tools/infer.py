"""Predict hand keypoints on an image, a folder of images or a video and draw them.

    python tools/infer.py CHECKPOINT INPUT --out-dir DIR [--config CONFIG] [--bboxes FILE]
        [--kpt-thr 0.3] [--show-prompt-maps] [--device cpu]

Writes ``DIR/<name>.png`` (images) or ``DIR/<name>.mp4`` (videos) with the skeletons drawn,
``DIR/predictions.json`` (COCO keypoint results) and, with ``--show-prompt-maps``,
``DIR/<name>_hand<i>_prompt_maps.png``. ``--bboxes``: a COCO annotation file (``images`` +
``annotations``) or a json list of ``{"file_name": ..., "bbox": [x, y, w, h]}`` (optional
``"image_id"``; for a video optional ``"frame"``, 0-based). Image ids: an image the boxes
file lists takes its id from there (a COCO image without annotations gets no hand); images
it does not list are named on stderr and are one whole-image hand box each, with new ids
after the file's, so no two images share an id. Without ``--bboxes`` every image is one
whole-image hand box, ids in folder order.
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import defaultdict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('checkpoint', help='model checkpoint (.pth) written by tools/train.py')
    p.add_argument('input', help='an image, a folder of images or a video')
    p.add_argument('--out-dir', required=True, help='where the pictures and json go')
    p.add_argument('--config', help='config file (default: the one stored in the checkpoint)')
    p.add_argument('--bboxes', help='hand boxes json (see above; default: whole image)')
    p.add_argument('--kpt-thr', type=float, default=0.3,
                   help='keypoints scoring below it are not drawn (default 0.3)')
    p.add_argument('--show-prompt-maps', action='store_true',
                   help='also write a grid of the K image-text score maps per hand')
    p.add_argument('--device', default='cpu', help='e.g. cpu or cuda:0')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='CHECKPOINT is a file you trust: unpickle it in full if it holds '
                   'more than data (this can run code in it)')
    return p.parse_args(argv)


class BoxFile(dict):
    """``{file name: [(bbox x1,y1,x2,y2, image_id or None, frame or None), ...]}`` (an image the
    file lists without a box maps to ``[]``), and ``image_ids``: ``{file name: image_id}`` of
    every image whose id the file gives."""

    def __init__(self, boxes: dict, image_ids: dict):
        super().__init__(boxes)
        self.image_ids = image_ids


def read_bboxes(path: str) -> BoxFile:
    """Read a ``--bboxes`` file (see the module doc) into a :class:`BoxFile`; raises
    ``ValueError`` naming the entry for a malformed one, and when two images share an id."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'--bboxes file {path!r} does not exist')
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict):  # COCO annotation file
        if 'images' not in data or 'annotations' not in data:
            raise ValueError(f'--bboxes {path}: a dict must be a COCO file with "images" and '
                             '"annotations"; or give a list of {"file_name", "bbox"}')
        names = {}
        for im in data['images']:
            if names.setdefault(im['id'], im['file_name']) != im['file_name']:
                raise ValueError(f'--bboxes {path}: image_id {im["id"]} is given to both '
                                 f'{names[im["id"]]} and {im["file_name"]}; ids must be '
                                 'unique per image')
        unknown = [a.get('id') for a in data['annotations'] if a.get('image_id') not in names]
        if unknown:
            raise ValueError(f'--bboxes {path}: annotation(s) {unknown[:5]} refer to an '
                             'image_id that is not in "images"')
        entries = [dict(file_name=names[a['image_id']], bbox=a['bbox'], image_id=a['image_id'])
                   for a in data['annotations'] if 'bbox' in a]
        listed = [(osp.basename(n), i) for i, n in names.items()]
    elif isinstance(data, list):
        entries = data
        listed = []
    else:
        raise ValueError(f'--bboxes {path}: expected a json list or a COCO dict')
    out = defaultdict(list)
    for i, e in enumerate(entries):
        name = e.get('file_name', e.get('image')) if isinstance(e, dict) else None
        box = e.get('bbox') if isinstance(e, dict) else None
        if name is None or box is None or len(box) != 4:
            raise ValueError(f'--bboxes {path}: entry {i} needs "file_name" and "bbox": '
                             f'[x, y, w, h], got {e!r}')
        x, y, w, h = (float(v) for v in box)
        if w <= 0 or h <= 0:
            raise ValueError(f'--bboxes {path}: entry {i} ({name}) has an empty box {box} '
                             '(x, y, w, h with w, h > 0)')
        out[osp.basename(name)].append(([x, y, x + w, y + h], e.get('image_id'), e.get('frame')))
        if e.get('image_id') is not None and e.get('frame') is None:
            listed.append((osp.basename(name), e['image_id']))
    ids, owner = {}, {}
    for name, image_id in listed:
        if owner.setdefault(image_id, name) != name:
            raise ValueError(f'--bboxes {path}: image_id {image_id} is given to both '
                             f'{owner[image_id]} and {name}; ids must be unique per image')
        if ids.setdefault(name, image_id) != image_id:
            raise ValueError(f'--bboxes {path}: {name} has two image ids, {ids[name]} and '
                             f'{image_id}')
        out.setdefault(name, [])
    return BoxFile(dict(out), ids)


def assign_image_ids(names, boxes: BoxFile):
    """``({name: image_id}, [names the boxes file does not list])`` for the images ``names``
    (in order): ids of listed images come from the file, the others get new ids after the
    largest one of the file (0, 1, ... without a file), so no two images share an id."""
    taken = [i for i in boxes.image_ids.values() if isinstance(i, int)]
    fresh = max(taken) + 1 if taken else 0
    ids, unlisted = {}, []
    for name in names:
        if name in boxes.image_ids:
            ids[name] = boxes.image_ids[name]
        else:
            ids[name] = fresh
            fresh += 1
            if name not in boxes:
                unlisted.append(name)
    return ids, unlisted


def list_images(folder: str) -> list:
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTS))
    if not files:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_EXTS)}) in folder {folder!r}')
    return [osp.join(folder, f) for f in files]


def _boxes(entries, frame=None):
    picked = [e for e in entries if frame is None or e[2] is None or e[2] == frame]
    return [e[0] for e in picked] or None


class Predictor:
    """Runs the model on frames and writes the pictures; collects the COCO results."""

    def __init__(self, args):
        from clamp_hand.apis.inference import init_model
        self.args = args
        self.model = init_model(args.config, args.checkpoint, device=args.device,
                                trust=args.trust_checkpoint)
        self.boxes = read_bboxes(args.bboxes) if args.bboxes else BoxFile({}, {})
        self.results = []

    def predict(self, img, name, image_id, frame=None, with_maps=False):
        from clamp_hand.apis.inference import inference, to_coco_result
        from clamp_hand.visualization import draw_hand
        entries = self.boxes.get(name)
        if entries == [] and frame is None:
            hands = []  # listed in the boxes file without a box: no hand
        else:
            hands = inference(self.model, img, _boxes(entries or [], frame),
                              with_score_maps=with_maps)
        canvas = img.copy()
        for hand in hands:
            draw_hand(canvas, hand['keypoints'], hand['scores'], self.model.dataset_meta,
                      kpt_thr=self.args.kpt_thr, bbox=hand['bbox'])
            res = to_coco_result(hand, image_id, name)
            if frame is not None:
                res['frame'] = frame
            self.results.append(res)
        return canvas, hands

    def image(self, path, image_id):
        import cv2

        from clamp_hand.visualization import plot_prompt_maps
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f'cannot read image {path!r}')
        name = osp.basename(path)
        canvas, hands = self.predict(img, name, image_id, with_maps=self.args.show_prompt_maps)
        stem = osp.splitext(name)[0]
        cv2.imwrite(osp.join(self.args.out_dir, f'{stem}.png'), canvas)
        if self.args.show_prompt_maps:
            for i, hand in enumerate(hands):
                plot_prompt_maps(hand['crop'], hand['score_maps'], hand['prompts'],
                                 osp.join(self.args.out_dir, f'{stem}_hand{i}_prompt_maps.png'))

    def video(self, path, progress):
        import cv2
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise FileNotFoundError(f'cannot open video {path!r}')
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        name = osp.basename(path)
        out_file = osp.join(self.args.out_dir, osp.splitext(name)[0] + '.mp4')
        writer = None
        bar = progress(total=total, desc=name, unit='frame')
        frame = 0
        try:
            while True:
                ok, img = cap.read()
                if not ok:
                    break
                canvas, _ = self.predict(img, name, frame, frame=frame)
                if writer is None:
                    h, w = canvas.shape[:2]
                    writer = cv2.VideoWriter(out_file, cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
                writer.write(canvas)
                frame += 1
                bar.update(1)
        finally:
            bar.close()
            cap.release()
            if writer is not None:
                writer.release()
        if frame == 0:
            raise ValueError(f'video {path!r} has no readable frame')


def main(argv=None):
    args = parse_args(argv)
    from tqdm import tqdm
    if not osp.exists(args.input):
        raise FileNotFoundError(f'input {args.input!r} does not exist (an image, a folder of '
                                'images or a video)')
    is_video = osp.isfile(args.input) and args.input.lower().endswith(VIDEO_EXTS)
    if osp.isfile(args.input) and not is_video and not args.input.lower().endswith(IMAGE_EXTS):
        raise ValueError(f'input {args.input!r}: unknown file type (images: '
                         f'{", ".join(IMAGE_EXTS)}; videos: {", ".join(VIDEO_EXTS)})')
    os.makedirs(args.out_dir, exist_ok=True)
    pred = Predictor(args)
    if is_video:
        if args.show_prompt_maps:
            print('--show-prompt-maps is for images; ignored for the video', file=sys.stderr)
        pred.video(args.input, tqdm)
    else:
        paths = list_images(args.input) if osp.isdir(args.input) else [args.input]
        ids, unlisted = assign_image_ids([osp.basename(p) for p in paths], pred.boxes)
        if args.bboxes and unlisted:
            print(f'{len(unlisted)} image(s) not in --bboxes {args.bboxes}: '
                  f'{", ".join(unlisted[:10])}{" ..." if len(unlisted) > 10 else ""}; each '
                  'is one whole-image hand box with a new image_id after the file\'s ids',
                  file=sys.stderr)
        for path in tqdm(paths, desc='images', unit='img', disable=len(paths) == 1):
            pred.image(path, ids[osp.basename(path)])
    out_json = osp.join(args.out_dir, 'predictions.json')
    with open(out_json, 'w') as f:
        json.dump(pred.results, f)
    print(f'{len(pred.results)} hands -> {out_json}')


if __name__ == '__main__':
    main()
