import { describe, expect, it } from 'vitest';
import { haversineKm, isValidPoint } from './geo.js';
import { listRegions, resolveRegion } from './regions.js';

// Every officially assigned ISO 3166-1 alpha-2 code (249), written out so a missing row shows up.
const ISO_3166_1 = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX
MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG
SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG
VI VN VU WF WS YE YT ZA ZM ZW`.split(/\s+/);

describe('regions', () => {
  it('has unique names and valid coordinates for every region', () => {
    const names = new Set<string>();
    for (const r of listRegions()) {
      expect(names.has(r.name.toLowerCase()), `duplicate ${r.name}`).toBe(false);
      names.add(r.name.toLowerCase());
      expect(isValidPoint(r), r.name).toBe(true);
      expect(r.label.length).toBeGreaterThan(0);
    }
  });

  it('holds every ISO 3166-1 alpha-2 country code', () => {
    expect(ISO_3166_1).toHaveLength(249);
    for (const code of ISO_3166_1) {
      const r = resolveRegion(code);
      expect(r, code).toBeDefined();
      expect(r?.kind).toBe('country');
    }
  });

  it('holds the cloud-style names a node config uses', () => {
    const names = ['eu-central', 'eu-west', 'eu-north', 'eu-south', 'us-east', 'us-west', 'us-central', 'ca-central', 'sa-east',
      'ap-northeast', 'ap-southeast', 'ap-south', 'ap-east', 'me-central', 'af-south', 'oceania', 'au-east'];
    for (const n of names) expect(resolveRegion(n)?.kind, n).toBe('cloud');
  });

  it('resolves case-insensitively, with _ and spaces read as -', () => {
    expect(resolveRegion('EU-Central')?.name).toBe('eu-central');
    expect(resolveRegion(' eu_central ')?.name).toBe('eu-central');
    expect(resolveRegion('de')?.name).toBe('DE');
    expect(resolveRegion('uk')?.name).toBe('GB');
  });

  it('answers undefined for unknown names', () => {
    for (const n of ['', 'mars-north', 'ZZ', 'eu-central-9', '../etc']) expect(resolveRegion(n), n).toBeUndefined();
    expect(resolveRegion(undefined as unknown as string)).toBeUndefined();
  });

  it('places regions where they are (great-circle sanity checks)', () => {
    const km = (a: string, b: string) => haversineKm(resolveRegion(a)!, resolveRegion(b)!);
    // Frankfurt - N. Virginia is about 6,500 km; Tokyo - Osaka about 400 km.
    expect(km('eu-central', 'us-east')).toBeGreaterThan(6000);
    expect(km('eu-central', 'us-east')).toBeLessThan(7000);
    expect(km('ap-northeast', 'ap-northeast-3')).toBeLessThan(450);
    // Each cloud region's named country is not absurdly far from its centre (< 2,500 km, Canada/Australia/US aside).
    expect(km('eu-central', 'DE')).toBeLessThan(300);
    expect(km('sa-east', 'BR')).toBeLessThan(2000);
    expect(km('ap-south', 'IN')).toBeLessThan(1000);
    // Coordinates are lat, lon (not swapped): Sydney is in the southern and eastern hemispheres.
    const syd = resolveRegion('au-east')!;
    expect(syd.lat).toBeLessThan(0);
    expect(syd.lon).toBeGreaterThan(0);
  });
});
