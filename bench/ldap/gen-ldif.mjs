#!/usr/bin/env node
// Writes N inetOrgPerson entries under ou=people,<suffix> as LDIF on stdout, for slapadd.
//   node bench/ldap/gen-ldif.mjs 100000 dc=idhub,dc=bench | slapadd -q -w -b dc=idhub,dc=bench …
// Deterministic (seeded LCG), so runs compare like for like. Attributes are what a directory
// import maps (uid, cn, sn, givenName, mail, employeeNumber …) plus a ~50-byte description, so
// an entry weighs about what a real one does on the wire (~450 bytes of LDIF).
// The suffix and ou=people entries are not written here: start-slapd.sh writes them first.
const N = Number(process.argv[2] ?? 100_000);
const SUFFIX = process.argv[3] ?? 'dc=idhub,dc=bench';
if (!Number.isInteger(N) || N < 0) {
  process.stderr.write(`gen-ldif: bad entry count ${process.argv[2]}\n`);
  process.exit(2);
}

let seed = 42;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const given = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken'];
const family = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov'];
const titles = ['Engineer', 'Senior Engineer', 'Manager', 'Director', 'Analyst', 'Designer'];
const depts = ['ENG', 'OPS', 'HR', 'FIN', 'SALES', 'SUPPORT', 'LEGAL', 'IT'];
const sites = ['Berlin', 'Lisbon', 'Austin', 'Toronto', 'Osaka', 'Nairobi'];
// One fixed {SSHA} value: a realistic attribute without hashing N passwords.
const PW = '{SSHA}8wXbWCT2mVJ3PcZV4GzrHWtkLkjeodtr';

// Written in chunks: one string per entry would make 100k small writes, one string for all
// would hold ~45 MB at once.
const out = [];
const flush = () => {
  process.stdout.write(out.join(''));
  out.length = 0;
};
for (let i = 1; i <= N; i++) {
  const g = pick(given);
  const f = pick(family);
  const title = pick(titles);
  const dept = pick(depts);
  const uid = `u${String(i).padStart(7, '0')}`;
  const phone = String(Math.floor(rnd() * 1e7)).padStart(7, '0');
  // ~50 bytes of free text, as HR feeds put in description
  const description = `${title}, ${dept}, ${pick(sites)} office, desk ${String(i % 997).padStart(3, '0')}, cc ${1000 + (i % 9000)}`;
  out.push(
    `dn: uid=${uid},ou=people,${SUFFIX}\n` +
      'objectClass: inetOrgPerson\n' +
      `uid: ${uid}\n` +
      `cn: ${g} ${f} ${i}\n` +
      `sn: ${f}\n` +
      `givenName: ${g}\n` +
      `displayName: ${g} ${f}\n` +
      `mail: ${g.toLowerCase()}.${f.toLowerCase()}.${i}@example.com\n` +
      `employeeNumber: ${i}\n` +
      `title: ${title}\n` +
      `departmentNumber: ${dept}\n` +
      `telephoneNumber: +1 555 ${phone}\n` +
      `description: ${description}\n` +
      `userPassword: ${PW}\n\n`,
  );
  if (out.length >= 2000) flush();
}
flush();
