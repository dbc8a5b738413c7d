#!/usr/bin/env node
/**
 * Entry point Prisma runs for `generator hushfield { provider = "hushfield-generator" }`.
 */
import { generatorHandler } from '@prisma/generator-helper';
import { generate, manifest } from './generator';

generatorHandler({ onManifest: manifest, onGenerate: generate });
