/**
 * DICOM Structured Report of the measurements on one image: a Comprehensive SR following TID 1500
 * (Measurement Report), one TID 1410 planar ROI measurement group per measured structure, each
 * value coded (LOINC's fetal biometry terms, as TID 5000's OB-GYN templates use them; SNOMED CT;
 * our own `99MEDUS` codes where no standard term exists) with UCUM units. It references the source
 * image and the Segmentation segment the values were measured on, names the model as the observer
 * device, and states the calibration source. Uncalibrated values are written in pixels, never mm.
 */
import { createHash } from 'node:crypto';
import { parseDataSet } from '../imaging/dicom/parse';
import type { Calibration } from '../imaging/types';
import { describeValue } from '../measurement/families';
import type { MeasurementResult } from '../measurement/measure';
import { TIRADS_LABELS, TIRADS_REFERENCE } from '../measurement/worksheets/tirads';
import type { WorksheetResults } from '../measurement/worksheets/worksheet';
import { manualEllipse } from '../measurement/manual';
import { ellipseAxes } from '../measurement/ellipse';
import type { ManualRecord } from './record';
import { presetFor } from '../shared/presets';
import { decimal, newUid, now, ownText, requiredDetail, sourceIdentity, srDocument, writePart10 } from './dicom-common';

const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
/** Our private coding scheme, declared in the object's Coding Scheme Identification Sequence. */
const PRIVATE = '99MEDUS';

interface Code {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}
const code = (value: string, scheme: string, meaning: string): Code => ({ CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning });

/** The concept of each measured value; standard terms where they exist. */
export const CONCEPTS: Readonly<Record<string, Code>> = {
  // fetal biometry (LOINC, as in DICOM's OB-GYN ultrasound templates, TID 5000)
  hc: code('11984-2', 'LN', 'Head Circumference'),
  bpd: code('11820-8', 'LN', 'Biparietal Diameter'),
  ofd: code('11851-3', 'LN', 'Occipital-Frontal Diameter'),
  ga: code('18185-9', 'LN', 'Gestational Age'),
  // lesion size (SNOMED CT, as in TID 1410's measurement concepts)
  'longest-diameter': code('103339001', 'SCT', 'Long Axis'),
  'perpendicular-diameter': code('103340004', 'SCT', 'Short Axis'),
  area: code('42798000', 'SCT', 'Area'),
  perimeter: code('131191004', 'SCT', 'Perimeter'),
  // a ruler's length (SNOMED CT, DICOM CID 7470 Linear Measurement)
  length: code('410668003', 'SCT', 'Length'),
};

/** Our code values (SH: at most 16 characters) for values without a standard term: the key, shortened where needed. */
const PRIVATE_VALUES: Readonly<Record<string, string>> = { 'equivalent-diameter': 'equiv-diameter', 'cross-sectional-area': 'cross-sect-area' };

/** The coded concept a measured value is reported under. */
export function conceptFor(key: string, label: string): Code {
  return CONCEPTS[key] ?? code(PRIVATE_VALUES[key] ?? key.slice(0, 16), PRIVATE, label.slice(0, 64));
}

/** What was measured and where, by anatomy preset (SNOMED CT). */
const FINDINGS: Record<string, { finding?: Code; site: Code }> = {
  'thyroid-nodule': { finding: code('27925004', 'SCT', 'Nodule'), site: code('69748006', 'SCT', 'Thyroid structure') },
  'thyroid-gland': { site: code('69748006', 'SCT', 'Thyroid structure') },
  'breast-lesion': { finding: code('52988006', 'SCT', 'Lesion'), site: code('76752008', 'SCT', 'Breast structure') },
  'fetal-head': { site: code('69536005', 'SCT', 'Head structure') },
  'ovary-tumour': { finding: code('108369006', 'SCT', 'Neoplasm'), site: code('15497006', 'SCT', 'Ovarian structure') },
  'carotid-artery': { site: code('69105007', 'SCT', 'Carotid artery structure') },
  'nerve-block-nerve': { site: code('3057000', 'SCT', 'Nerve structure') },
  'nerve-block-vessel': { site: code('59820001', 'SCT', 'Blood vessel structure') },
};

/** UCUM units; pixels as an annotation, so an uncalibrated value can never be read as millimetres. */
const UNITS: Record<string, Code> = {
  mm: code('mm', 'UCUM', 'millimeter'),
  'mm²': code('mm2', 'UCUM', 'square millimeter'),
  px: code('{px}', 'UCUM', 'pixel'),
  'px²': code('{px2}', 'UCUM', 'square pixel'),
  weeks: code('wk', 'UCUM', 'week'),
  '°': code('deg', 'UCUM', 'degree'),
  ratio: code('1', 'UCUM', 'no units'),
  '': code('1', 'UCUM', 'no units'),
  '%': code('%', 'UCUM', 'percent'),
};

export interface SrSource {
  /** The source DICOM's details (electron/imaging/dicom): identity, patient and study. */
  details: Record<string, string>;
  /** 0-based source frame, and whether the source is multi-frame (frame numbers are then referenced). */
  frame: number;
  multiFrame: boolean;
}

export interface SrContent {
  anatomy: string;
  /** The measurements as the user sees them (caliper edits applied). */
  measurement: MeasurementResult;
  calibration: Calibration;
  model: { name: string; version: string };
  /** The Segmentation the values were measured on (segment 1 of its one frame), when one was written. */
  segmentation: { sopInstanceUid: string; seriesInstanceUid: string } | null;
  /** The clinician's worksheets (TI-RADS per nodule, obstetric dating), written into the groups they belong to. */
  worksheets?: WorksheetResults;
  /** The clinician's hand-drawn measurements: one TID 1501 group each, every value inferred from the drawn outline (SCOORD). */
  manual?: ManualRecord[];
}

type Item = Record<string, unknown>;

/** The identity of a Segmentation we wrote, for the report to reference it. */
export function segmentationIdentity(seg: Uint8Array): { sopInstanceUid: string; seriesInstanceUid: string } {
  const ds = parseDataSet('the Segmentation', seg);
  return { sopInstanceUid: ds.string('x00080018') ?? '', seriesInstanceUid: ds.string('x0020000e') ?? '' };
}

/** The observer device's UID, the same for every report of one model version. */
function deviceUid(model: { name: string; version: string }): string {
  const digest = createHash('sha256').update(`MedUS ${model.name} ${model.version}`).digest('hex').slice(0, 30);
  return `2.25.${BigInt(`0x${digest}`).toString(10)}`;
}

export function buildMeasurementReport(src: SrSource, c: SrContent): Uint8Array {
  const d = src.details;
  const need = (k: string) => requiredDetail(d, k, 'a measurement report');
  const sourceClass = need('sopClassUid');
  const sourceInstance = need('sopInstanceUid');
  const sourceSeries = need('seriesInstanceUid');
  const sourceRef: Item = { ReferencedSOPClassUID: sourceClass, ReferencedSOPInstanceUID: sourceInstance };
  if (src.multiFrame) sourceRef.ReferencedFrameNumber = src.frame + 1;
  const { date, time } = now();
  const sopInstanceUid = newUid();
  const usesPrivate = new Set<string>();

  const text = (relation: string, concept: Code, value: string): Item => ({ RelationshipType: relation, ValueType: 'TEXT', ConceptNameCodeSequence: [concept], TextValue: ownText(value, 1024) });
  const coded = (relation: string, concept: Code, value: Code): Item => ({ RelationshipType: relation, ValueType: 'CODE', ConceptNameCodeSequence: [concept], ConceptCodeSequence: [value] });
  const privateCode = (value: string, meaning: string): Code => {
    usesPrivate.add(value);
    return code(value.slice(0, 16), PRIVATE, meaning.slice(0, 64));
  };

  const cal = c.calibration;
  const calibrationText =
    c.measurement.calibrated && cal.mmPerPixelX && cal.mmPerPixelY
      ? `${cal.source}: ${decimal(cal.mmPerPixelX)} x ${decimal(cal.mmPerPixelY)} mm per pixel`
      : 'uncalibrated: values in pixels';
  const findings = FINDINGS[c.anatomy];
  const family = presetFor(c.anatomy).family;

  /**
   * The worksheets, with our private codes (no standard term covers TI-RADS categories or an
   * INTERGROWTH-21st centile): a nodule's TI-RADS in the group of its first measured region, the
   * obstetric dating and HC centile in the first fetal head's group.
   */
  const num = (concept: Code, value: number, unit: Code, derivation?: string): Item => ({
    RelationshipType: 'CONTAINS',
    ValueType: 'NUM',
    ConceptNameCodeSequence: [concept],
    MeasuredValueSequence: [{ NumericValue: decimal(value), MeasurementUnitsCodeSequence: [unit] }],
    ...(derivation ? { ContentSequence: [text('HAS CONCEPT MOD', code('121401', 'DCM', 'Derivation'), derivation)] } : {}),
  });
  const worksheetItems = (region: number): Item[] => {
    const w = c.worksheets;
    if (!w) return [];
    const items: Item[] = [];
    const t = w.tirads.find((x) => x.components?.[0] === region);
    if (t) {
      const r = t.result;
      const f = t.findings;
      const chosen = (v: string | undefined, labels: Record<string, string>) => (v ? labels[v]! : 'not chosen');
      items.push(
        text('CONTAINS', privateCode('TIRADS-COMP', 'ACR TI-RADS composition'), chosen(f.composition, TIRADS_LABELS.composition)),
        text('CONTAINS', privateCode('TIRADS-ECHO', 'ACR TI-RADS echogenicity'), chosen(f.echogenicity, TIRADS_LABELS.echogenicity)),
        text('CONTAINS', privateCode('TIRADS-SHAPE', 'ACR TI-RADS shape'), `${chosen(r.shape ?? undefined, TIRADS_LABELS.shape)}${r.shapeSource === 'measured' ? ' (from the measured AP/T)' : ''}`),
        text('CONTAINS', privateCode('TIRADS-MARGIN', 'ACR TI-RADS margin'), chosen(f.margin, TIRADS_LABELS.margin)),
        text('CONTAINS', privateCode('TIRADS-FOCI', 'ACR TI-RADS echogenic foci'), f.foci.length ? f.foci.map((x) => TIRADS_LABELS.foci[x]).join('; ') : 'not chosen'),
        num(privateCode('TIRADS-POINTS', 'ACR TI-RADS points'), r.points, UNITS['']!, TIRADS_REFERENCE),
        text('CONTAINS', privateCode('TIRADS-LEVEL', 'ACR TI-RADS level'), `TR${r.level} (${r.levelName})${r.complete ? '' : ', provisional'}`),
        text('CONTAINS', privateCode('TIRADS-REC', 'ACR TI-RADS recommendation'), `${r.recommendation.text}${r.maxDiameterMm !== null ? `; maximum diameter ${decimal(r.maxDiameterMm)} mm (${r.diameterSource})` : ''}`),
      );
    }
    const o = w.obstetric;
    if (o && family === 'fetal-head' && region === c.measurement.objects[0]?.id) {
      const d = o.input.dating;
      if (d) items.push(text('CONTAINS', privateCode('DATING', 'Dating'), d.kind === 'lmp' ? `LMP ${d.lmp}; scan ${o.input.scanDate ?? ''}` : `earlier scan ${d.scanDate} at ${d.weeks} w ${d.days} d; scan ${o.input.scanDate ?? ''}`));
      if (o.result.gaByDates) items.push(num(privateCode('GA-DATES', 'Gestational age by dates'), o.result.gaByDates.weeks, UNITS.weeks!));
      if (o.result.gaByHc && o.input.formula === 'intergrowth-21st') items.push(num(privateCode('GA-HC-IG21', 'Gestational age from HC, INTERGROWTH-21st'), o.result.gaByHc.weeks, UNITS.weeks!, o.result.gaByHc.formula));
      if (o.result.centile) {
        items.push(num(privateCode('HC-Z', 'HC z-score for GA by dates'), o.result.centile.z, UNITS['']!, o.result.centile.standard));
        items.push(num(privateCode('HC-CENTILE', 'HC centile for GA by dates'), o.result.centile.centile, UNITS['%']!, o.result.centile.standard));
      }
    }
    return items;
  };

  const groups: Item[] = c.measurement.objects.map((o) => {
    const values: Item[] = o.measurements.map((m) => {
      const concept = conceptFor(m.key, describeValue(family, m.key).label);
      if (concept.CodingSchemeDesignator === PRIVATE) usesPrivate.add(concept.CodeValue);
      const unit = UNITS[m.unit] ?? UNITS['']!;
      const num: Item = { RelationshipType: 'CONTAINS', ValueType: 'NUM', ConceptNameCodeSequence: [concept], MeasuredValueSequence: [{ NumericValue: decimal(m.value), MeasurementUnitsCodeSequence: [unit] }] };
      const notes: Item[] = [];
      if (m.key === 'ga') notes.push(text('HAS CONCEPT MOD', code('121401', 'DCM', 'Derivation'), 'Hadlock FP et al. 1984, from the head circumference'));
      if (m.edited) notes.push(text('HAS CONCEPT MOD', privateCode('EDITED', 'Edited by the user'), 'caliper moved by the user and the value recomputed'));
      if (notes.length) num.ContentSequence = notes;
      return num;
    });
    const group: Item[] = [
      text('HAS OBS CONTEXT', code('112039', 'DCM', 'Tracking Identifier'), `${presetFor(c.anatomy).label} ${o.id}`),
      { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'UIDREF', ConceptNameCodeSequence: [code('112040', 'DCM', 'Tracking Unique Identifier')], UID: newUid() },
      ...(findings?.finding ? [coded('CONTAINS', code('121071', 'DCM', 'Finding'), findings.finding)] : []),
      ...(findings ? [coded('HAS CONCEPT MOD', code('363698007', 'SCT', 'Finding Site'), findings.site)] : []),
      ...(c.segmentation
        ? [{ RelationshipType: 'CONTAINS', ValueType: 'IMAGE', ConceptNameCodeSequence: [code('121214', 'DCM', 'Referenced Segmentation Frame')], ReferencedSOPSequence: [{ ReferencedSOPClassUID: SEG_SOP_CLASS, ReferencedSOPInstanceUID: c.segmentation.sopInstanceUid, ReferencedSegmentNumber: 1 }] }]
        : []),
      { RelationshipType: 'CONTAINS', ValueType: 'IMAGE', ConceptNameCodeSequence: [code('121233', 'DCM', 'Source image for segmentation')], ReferencedSOPSequence: [sourceRef] },
      text('HAS CONCEPT MOD', privateCode('CALIBRATION', 'Calibration source'), calibrationText),
      ...values,
      ...worksheetItems(o.id),
    ];
    return { RelationshipType: 'CONTAINS', ValueType: 'CONTAINER', ConceptNameCodeSequence: [code('125007', 'DCM', 'Measurement Group')], ContinuityOfContent: 'SEPARATE', ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1410' }], ContentSequence: group };
  });

  /**
   * A hand-drawn shape's group (TID 1501, measurements without a segmentation): each value a NUM
   * inferred from the drawn outline as a SCOORD on the source image (PS3.3 C.18.6.1.2: column\row,
   * 0\0 the top left corner of the top left pixel, as the app's own pixel coordinates). An ellipse
   * is given by the ends of its major then minor axis; a closed outline repeats its first point.
   */
  const TOOL_NAMES: Record<ManualRecord['kind'], string> = { ruler: 'Ruler', angle: 'Angle', ellipse: 'Ellipse', polygon: 'Polygon', trace: 'Trace' };
  const manualGroups: Item[] = (c.manual ?? []).map((m) => {
    let graphic: { type: string; points: ReadonlyArray<readonly [number, number]> };
    if (m.kind === 'ellipse') {
      const axes = ellipseAxes(manualEllipse(m.points));
      const e = manualEllipse(m.points);
      graphic = { type: 'ELLIPSE', points: e.a >= e.b ? [...axes.major, ...axes.minor] : [...axes.minor, ...axes.major] };
    } else if (m.kind === 'polygon' || m.kind === 'trace') graphic = { type: 'POLYLINE', points: [...m.points, m.points[0]!] };
    else graphic = { type: 'POLYLINE', points: m.points };
    const scoord: Item = {
      RelationshipType: 'INFERRED FROM',
      ValueType: 'SCOORD',
      GraphicType: graphic.type,
      GraphicData: graphic.points.flatMap((p) => [p[0], p[1]]),
      ContentSequence: [{ RelationshipType: 'SELECTED FROM', ValueType: 'IMAGE', ReferencedSOPSequence: [sourceRef] }],
    };
    const mcal = m.calibration;
    const values: Item[] = m.measurements.map((v) => {
      const concept = conceptFor(v.key, v.label);
      if (concept.CodingSchemeDesignator === PRIVATE) usesPrivate.add(concept.CodeValue);
      const children: Item[] = v.key === 'ga' ? [text('HAS CONCEPT MOD', code('121401', 'DCM', 'Derivation'), 'Hadlock FP et al. 1984, from the head circumference')] : [scoord];
      return { RelationshipType: 'CONTAINS', ValueType: 'NUM', ConceptNameCodeSequence: [concept], MeasuredValueSequence: [{ NumericValue: decimal(v.value), MeasurementUnitsCodeSequence: [UNITS[v.unit] ?? UNITS['']!] }], ContentSequence: children };
    });
    const group: Item[] = [
      text('HAS OBS CONTEXT', code('112039', 'DCM', 'Tracking Identifier'), `${TOOL_NAMES[m.kind]} ${m.id}${m.name ? ` (${m.name})` : ''}, drawn by hand`),
      { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'UIDREF', ConceptNameCodeSequence: [code('112040', 'DCM', 'Tracking Unique Identifier')], UID: newUid() },
      text('HAS CONCEPT MOD', privateCode('MANUAL', 'Drawn by the clinician'), m.fromObject !== undefined ? `the model's outline of object ${m.fromObject}, edited by the clinician` : 'drawn by the clinician'),
      text('HAS CONCEPT MOD', privateCode('CALIBRATION', 'Calibration source'), m.calibrated && mcal.mmPerPixelX && mcal.mmPerPixelY ? `${mcal.source}: ${decimal(mcal.mmPerPixelX)} x ${decimal(mcal.mmPerPixelY)} mm per pixel` : 'uncalibrated: values in pixels'),
      ...values,
    ];
    return { RelationshipType: 'CONTAINS', ValueType: 'CONTAINER', ConceptNameCodeSequence: [code('125007', 'DCM', 'Measurement Group')], ContinuityOfContent: 'SEPARATE', ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1501' }], ContentSequence: group };
  });

  const content: Item[] = [
    coded('HAS CONCEPT MOD', code('121049', 'DCM', 'Language of Content Item and Descendants'), code('en-US', 'RFC5646', 'English (United States)')),
    coded('HAS OBS CONTEXT', code('121005', 'DCM', 'Observer Type'), code('121007', 'DCM', 'Device')),
    { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'UIDREF', ConceptNameCodeSequence: [code('121012', 'DCM', 'Device Observer UID')], UID: deviceUid(c.model) },
    text('HAS OBS CONTEXT', code('121013', 'DCM', 'Device Observer Name'), c.model.name),
    text('HAS OBS CONTEXT', code('121014', 'DCM', 'Device Observer Manufacturer'), 'MedUS Workstation'),
    text('HAS OBS CONTEXT', code('121015', 'DCM', 'Device Observer Model Name'), `${c.model.name} ${c.model.version}`),
    coded('HAS CONCEPT MOD', code('121058', 'DCM', 'Procedure reported'), code('16310003', 'SCT', 'Ultrasonography')),
    {
      RelationshipType: 'CONTAINS',
      ValueType: 'CONTAINER',
      ConceptNameCodeSequence: [code('111028', 'DCM', 'Image Library')],
      ContinuityOfContent: 'SEPARATE',
      ContentSequence: [
        {
          RelationshipType: 'CONTAINS',
          ValueType: 'CONTAINER',
          ConceptNameCodeSequence: [code('126200', 'DCM', 'Image Library Group')],
          ContinuityOfContent: 'SEPARATE',
          ContentSequence: [{ RelationshipType: 'CONTAINS', ValueType: 'IMAGE', ReferencedSOPSequence: [sourceRef] }],
        },
      ],
    },
    { RelationshipType: 'CONTAINS', ValueType: 'CONTAINER', ConceptNameCodeSequence: [code('126010', 'DCM', 'Imaging Measurements')], ContinuityOfContent: 'SEPARATE', ContentSequence: [...groups, ...manualGroups] },
  ];

  // the evidence the report rests on: the source image and, in its own series, the Segmentation
  const evidence: Item[] = [{ SeriesInstanceUID: sourceSeries, ReferencedSOPSequence: [{ ReferencedSOPClassUID: sourceClass, ReferencedSOPInstanceUID: sourceInstance }] }];
  if (c.segmentation) evidence.push({ SeriesInstanceUID: c.segmentation.seriesInstanceUid, ReferencedSOPSequence: [{ ReferencedSOPClassUID: SEG_SOP_CLASS, ReferencedSOPInstanceUID: c.segmentation.sopInstanceUid }] });
  const natural: Item = {
    SOPClassUID: COMPREHENSIVE_SR,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...(usesPrivate.size ? { CodingSchemeIdentificationSequence: [{ CodingSchemeDesignator: PRIVATE, CodingSchemeName: 'MedUS Workstation measurement codes', CodingSchemeResponsibleOrganization: 'MedUS Workstation' }] } : {}),
    ...sourceIdentity(d, 'a measurement report'),
    // SR Document Series, General Equipment, SR Document General and the root of the content (TID 1500)
    ...srDocument(date, time),
    SeriesInstanceUID: newUid(),
    SeriesNumber: 991,
    SeriesDescription: ownText(`MedUS measurements: ${presetFor(c.anatomy).label}`),
    ManufacturerModelName: ownText(c.model.name) || 'model',
    SoftwareVersions: ownText(c.model.version) || 'unknown',
    CurrentRequestedProcedureEvidenceSequence: [{ StudyInstanceUID: d.studyInstanceUid, ReferencedSeriesSequence: evidence }],
    ConceptNameCodeSequence: [code('126000', 'DCM', 'Imaging Measurement Report')],
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: content,
  };
  return writePart10(natural);
}
