// Borrower lookup: the brs1 token computed in this browser tab (docs/identity-hashing.md).
// The identity number and K_assoc never leave the page: only the 64-hex token is posted.
// K_assoc is kept in this tab's sessionStorage, nowhere else.
"use strict";
(() => {
  const KEY_STORE = "registry.k_assoc";
  // ISO 3166-1 alpha-3 codes (the same list as the SDK's registry_client/_countries.py).
  const COUNTRIES = new Set("ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE".split(" "));
  const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const ID_CHECK = "10X98765432";

  class InvalidIdentity extends Error {}

  const residentCheck = (first17) =>
    ID_CHECK[[...first17].reduce((sum, d, i) => sum + Number(d) * ID_WEIGHTS[i], 0) % 11];

  function today() {
    const now = new Date();
    return now.getFullYear() * 10000 + (now.getMonth() + 1) * 100 + now.getDate();
  }

  function residentId(raw) {
    let value = raw.trim().replace(/x/g, "X");
    for (let i = 0; i < value.length; i++) {
      if (!/[0-9X]/.test(value[i])) throw new InvalidIdentity(`invalid character '${value[i]}' at position ${i + 1}: digits only, X last`);
    }
    if (value.length !== 18 && value.length !== 15) {
      throw new InvalidIdentity(`wrong length ${value.length}: expected 18 characters (or 15 for a legacy number)`);
    }
    if (value.length === 15) {
      if (!/^[0-9]{15}$/.test(value)) throw new InvalidIdentity("a legacy number is digits only");
      const first17 = value.slice(0, 6) + "19" + value.slice(6);
      value = first17 + residentCheck(first17);
    }
    const x = value.indexOf("X");
    if (x !== -1 && x !== 17) throw new InvalidIdentity(`invalid character 'X' at position ${x + 1}: digits only, X last`);
    const y = Number(value.slice(6, 10)), m = Number(value.slice(10, 12)), d = Number(value.slice(12, 14));
    const date = new Date(Date.UTC(y, m - 1, d));
    if (m < 1 || m > 12 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
      throw new InvalidIdentity(`birth date ${value.slice(6, 14)} is not a real date`);
    }
    if (y * 10000 + m * 100 + d > today()) throw new InvalidIdentity(`birth date ${value.slice(6, 14)} is in the future`);
    const expected = residentCheck(value.slice(0, 17));
    if (value[17] !== expected) throw new InvalidIdentity(`checksum mismatch: check character is ${value[17]}, expected ${expected}`);
    return value;
  }

  function uscc(raw) {
    const value = raw.trim().replace(/[ -]/g, "").toUpperCase();
    for (let i = 0; i < value.length; i++) {
      if (!USCC_ALPHABET.includes(value[i])) throw new InvalidIdentity(`invalid character '${value[i]}' at position ${i + 1}: allowed are ${USCC_ALPHABET}`);
    }
    if (value.length !== 18) throw new InvalidIdentity(`wrong length ${value.length}: expected 18 characters`);
    const sum = [...value.slice(0, 17)].reduce((s, c, i) => s + USCC_ALPHABET.indexOf(c) * USCC_WEIGHTS[i], 0);
    const expected = USCC_ALPHABET[(31 - (sum % 31)) % 31];
    if (value[17] !== expected) throw new InvalidIdentity(`checksum mismatch: check character is ${value[17]}, expected ${expected}`);
    return value;
  }

  function passport(raw) {
    const at = raw.indexOf(":");
    if (at === -1) throw new InvalidIdentity("missing ':' separator: expected CCC:NUMBER (ISO 3166 alpha-3 country)");
    const country = raw.slice(0, at).trim().toUpperCase();
    const number = raw.slice(at + 1).trim().replace(/[ -]/g, "").toUpperCase();
    if (!COUNTRIES.has(country)) throw new InvalidIdentity(`country '${country}' is not an ISO 3166 alpha-3 code`);
    if (number.length < 1 || number.length > 20) throw new InvalidIdentity(`wrong length ${number.length}: 1 to 20 characters`);
    if (!/^[A-Z0-9]+$/.test(number)) throw new InvalidIdentity("the number may hold A-Z and 0-9 only");
    return `${country}:${number}`;
  }

  // ISO 3779 / GB 16735: letters A-H, J-N, P, R-Z and digits; position 9 is the check digit.
  const VIN_VALUE = Object.fromEntries([
    ..."0123456789".split("").map((d) => [d, Number(d)]),
    ..."ABCDEFGH".split("").map((c, i) => [c, i + 1]),
    ..."JKLMN".split("").map((c, i) => [c, i + 1]),
    ["P", 7], ["R", 9],
    ..."STUVWXYZ".split("").map((c, i) => [c, i + 2]),
  ]);
  const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

  function vin(raw) {
    const value = raw.trim().replace(/[ -]/g, "").toUpperCase();
    for (let i = 0; i < value.length; i++) {
      if (!(value[i] in VIN_VALUE)) throw new InvalidIdentity(`invalid character '${value[i]}' at position ${i + 1}: letters A-Z except I, O and Q, and digits`);
    }
    if (value.length !== 17) throw new InvalidIdentity(`wrong length ${value.length}: expected 17 characters`);
    const remainder = [...value].reduce((s, c, i) => s + VIN_VALUE[c] * VIN_WEIGHTS[i], 0) % 11;
    const expected = remainder === 10 ? "X" : String(remainder);
    if (value[8] !== expected) throw new InvalidIdentity(`check digit mismatch: position 9 is ${value[8]}, expected ${expected}`);
    return value;
  }

  // Vehicles (vin) are not borrowers: the lookup page offers the borrower kinds, but the
  // token is computed for every kind of docs/identity-hashing.md.
  const NORMALIZERS = { cn_resident_id: residentId, cn_uscc: uscc, passport, vin };

  function normalize(kind, raw) {
    const normalizer = NORMALIZERS[kind];
    if (!normalizer) throw new InvalidIdentity(`unknown identity kind '${kind}': expected one of ${Object.keys(NORMALIZERS).join(", ")}`);
    return normalizer(raw);
  }

  function keyBytes(hex) {
    const clean = hex.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(clean)) throw new InvalidIdentity("K_assoc must be 64 hexadecimal characters (32 bytes)");
    return new Uint8Array(clean.match(/../g).map((b) => parseInt(b, 16)));
  }

  async function token(kind, raw, keyHex) {
    const normalized = normalize(kind, raw);
    const key = await crypto.subtle.importKey("raw", keyBytes(keyHex), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`brs1|${kind}|${normalized}`));
    return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  window.brs1 = { normalize, token, InvalidIdentity };

  document.addEventListener("DOMContentLoaded", () => {
    const kind = document.getElementById("kind");
    const identity = document.getElementById("identity");
    const key = document.getElementById("hashing_key");
    const error = document.getElementById("identity-error");
    if (!kind || !identity || !key) return;
    if (!(window.crypto && crypto.subtle)) {
      document.getElementById("no-webcrypto").hidden = false;
      document.getElementById("compute").disabled = true;
      return;
    }
    key.value = sessionStorage.getItem(KEY_STORE) || "";
    key.addEventListener("change", () => sessionStorage.setItem(KEY_STORE, key.value.trim()));
    document.getElementById("forget-key").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORE);
      key.value = "";
    });
    async function lookup() {
      error.hidden = true;
      try {
        sessionStorage.setItem(KEY_STORE, key.value.trim());
        const subject = await token(kind.value, identity.value, key.value);
        identity.value = "";
        document.getElementById("subject").value = subject;
        document.getElementById("report-form").submit();
      } catch (e) {
        error.textContent = e instanceof InvalidIdentity ? e.message : String(e);
        error.hidden = false;
      }
    }
    document.getElementById("compute").addEventListener("click", lookup);
    for (const field of [identity, key]) {
      field.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); lookup(); } });
    }
  });
})();
