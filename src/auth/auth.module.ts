import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { LoginController } from './login.controller';

/** Who may call what (./auth.guard.ts), and the login page. Needs ConfigModule (global). */
@Module({
  controllers: [LoginController],
  providers: [AuthService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService],
})
export class AuthModule {}
