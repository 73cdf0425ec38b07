// For blocks with a zod schema: `z` imported from zod 4.
import { z } from "zod";
