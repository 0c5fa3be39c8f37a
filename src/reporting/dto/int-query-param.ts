import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/**
 * An optional integer query parameter from `min` to `max`: converted from the query string,
 * validated with one message that says what is allowed, and documented with its bounds.
 */
export function IntQueryParam(name: string, min: number, max: number, fallback: number, description: string): PropertyDecorator {
  const message = `${name} must be an integer from ${min} to ${max}`;
  return applyDecorators(
    ApiPropertyOptional({ minimum: min, maximum: max, default: fallback, description }),
    Type(() => Number),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}
