#!/usr/bin/env node
// `npm run synth` (cdk synth --app "ts-node --transpile-only infra/bin/app.ts"); see infra/README.md.
import { buildApp } from '../lib/build-app';

buildApp();
