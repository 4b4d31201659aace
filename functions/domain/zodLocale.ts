import { config } from 'zod/mini';
import { en } from 'zod/v4/locales';

/**
 * The ingress validates with `zod/mini` (the same engine as `zod`, without the method-chaining
 * API that defeats tree-shaking: ~20 KB in a bundle instead of ~450 KB). zod/mini carries no
 * messages of its own ("Invalid input" for everything); this gives it the English ones full zod
 * uses, so a rejection reads the same whichever API built the schema. Every module that defines
 * or runs a zod/mini schema imports this file for its side effect.
 */
config(en());
