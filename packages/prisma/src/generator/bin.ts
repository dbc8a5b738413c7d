#!/usr/bin/env node
/**
 * Entry point Prisma runs for `generator fieldseal { provider = "fieldseal-generator" }`.
 */
import { generatorHandler } from '@prisma/generator-helper';
import { generate, manifest } from './generator';

generatorHandler({ onManifest: manifest, onGenerate: generate });
